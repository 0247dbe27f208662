using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Tools;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.Flows;

/// <summary>Flows and operations written through <see cref="FlowStore"/> against a real content database: shapes, layout, links and every refusal.</summary>
[Collection(ServersCollection.Name)]
public sealed class FlowStoreTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _db = null!;
    private static readonly FlowActor Actor = new(Guid.Parse(ToolsDatabase.Admin.UserId), "127.0.0.1", "test", null);

    private FlowStore Store => _db.Services.GetRequiredService<FlowStore>();

    public async Task InitializeAsync() => _db = await ToolsDatabase.CreateAsync(servers, "flowstore");

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static JsonObject Body(string json) => JsonNode.Parse(json)!.AsObject();

    private async Task<long> CountAsync(string sql)
    {
        await using var cmd = _db.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(sql);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<string> RefusedAsync(Func<Task> write)
    {
        var e = await Assert.ThrowsAsync<DirectusException>(write);
        Assert.Equal((400, ErrorCodes.InvalidPayload), (e.Status, e.Code));
        return (string)e.Extensions!["field"]!;
    }

    private const string A = "00000000-0000-0000-0000-00000000000a", B = "00000000-0000-0000-0000-00000000000b", C = "00000000-0000-0000-0000-00000000000c";

    private Task<Guid> CreateThreeAsync() => Store.CreateFlowAsync(Body($$$"""
        {"name":"Publish","trigger":"manual","options":{"collections":["articles"]},"operation":"{{{A}}}","operations":[
          {"id":"{{{A}}}","key":"check","type":"condition","options":{"filter":{"$trigger":{"body":{"status":{"_eq":"published"} } } } },"resolve":"{{{B}}}","reject":"{{{C}}}"},
          {"id":"{{{B}}}","key":"say","type":"log","options":{"message":"ok {{ $trigger.body.status }}"}},
          {"id":"{{{C}}}","key":"fail","type":"throw-error","options":{"message":"not published"}}]}
        """), Actor, CancellationToken.None);

    [Fact]
    public async Task A_flow_with_nested_operations_is_created_laid_out_on_the_grid_and_read_in_directus_shape()
    {
        var id = await CreateThreeAsync();
        var flow = await FlowsApi.FlowAsync(Store, id, CancellationToken.None);
        Assert.Equal(("Publish", "manual", "active", "all", A), (flow["name"]!.GetValue<string>(), flow["trigger"]!.GetValue<string>(),
            flow["status"]!.GetValue<string>(), flow["accountability"]!.GetValue<string>(), flow["operation"]!.GetValue<string>()));
        Assert.Equal([A, B, C], flow["operations"]!.AsArray().Select(o => o!.GetValue<string>()).Order());
        Assert.Equal(Actor.User.ToString(), flow["user_created"]!.GetValue<string>());

        var operations = (await Store.OperationsAsync(id, CancellationToken.None)).ToDictionary(o => o.Key);
        // resolve: one column on in the same row; reject: one column on in a new row (the reference's 18 × 16 grid from 19/1)
        Assert.Equal((19, 1), (operations["check"].PositionX, operations["check"].PositionY));
        Assert.Equal((37, 1), (operations["say"].PositionX, operations["say"].PositionY));
        Assert.Equal((37, 17), (operations["fail"].PositionX, operations["fail"].PositionY));
        var json = operations["check"].Json();
        Assert.Equal(["id", "name", "key", "type", "position_x", "position_y", "options", "resolve", "reject", "flow", "date_created", "user_created"],
            json.Select(p => p.Key));
        Assert.Equal((B, C, id.ToString()), (json["resolve"]!.GetValue<string>(), json["reject"]!.GetValue<string>(), json["flow"]!.GetValue<string>()));
        Assert.Equal(4, await CountAsync("select count(*) from content_activity where action = 'create' and collection in ('directus_flows', 'directus_operations')"));
        Assert.Equal(4, await CountAsync("select count(*) from content_revisions where collection in ('directus_flows', 'directus_operations')"));
    }

    [Fact]
    public async Task Operations_given_positions_keep_them_and_one_without_lays_out_the_flow()
    {
        var id = await Store.CreateFlowAsync(Body("""{"name":"W","trigger":"webhook","options":{"method":"POST"}}"""), Actor, CancellationToken.None);
        var first = await Store.CreateOperationAsync(Body($$$"""{"flow":"{{{id}}}","key":"one","type":"log","position_x":91,"position_y":41}"""), Actor, CancellationToken.None);
        Assert.Equal((91, 41), ((await Store.OperationsAsync(id, CancellationToken.None))[0].PositionX, (await Store.OperationsAsync(id, CancellationToken.None))[0].PositionY));
        await Store.UpdateFlowAsync(id, Body($$$"""{"operation":"{{{first}}}"}"""), Actor, CancellationToken.None);
        var second = await Store.CreateOperationAsync(Body($$$"""{"flow":"{{{id}}}","key":"two","type":"sleep","options":{"milliseconds":1}}"""), Actor, CancellationToken.None);
        await Store.UpdateOperationAsync(first, Body($$$"""{"resolve":"{{{second}}}"}"""), Actor, CancellationToken.None);
        var laid = (await Store.OperationsAsync(id, CancellationToken.None)).ToDictionary(o => o.Key);
        Assert.Equal((19, 1), (laid["one"].PositionX, laid["one"].PositionY)); // the new operation laid the whole flow out:
        Assert.Equal((19, 17), (laid["two"].PositionX, laid["two"].PositionY)); // unlinked then, a row of its own; a later link moves nothing
        Assert.Equal("position_y", await RefusedAsync(() => Store.CreateOperationAsync(
            Body($$$"""{"flow":"{{{id}}}","key":"three","type":"log","position_x":3}"""), Actor, CancellationToken.None)));

        await Store.DeleteOperationAsync(first, Actor, CancellationToken.None);
        var left = await Store.OperationsAsync(id, CancellationToken.None);
        Assert.Equal(("two", 19, 1), (left.Single().Key, left.Single().PositionX, left.Single().PositionY)); // deleting lays out again
        Assert.Null((await Store.FlowAsync(id, CancellationToken.None))!.Operation); // the first operation's link is cleared
    }

    [Fact]
    public async Task A_linked_operation_cannot_move_to_another_flow_and_an_unlinked_one_can()
    {
        var id = await CreateThreeAsync();
        var other = await Store.CreateFlowAsync(Body("""{"name":"Other","trigger":"operation"}"""), Actor, CancellationToken.None);
        Assert.Equal("flow", await RefusedAsync(() => Store.UpdateOperationAsync(Guid.Parse(B), Body($$$"""{"flow":"{{{other}}}"}"""), Actor, CancellationToken.None)));
        Assert.Equal(id, (await Store.OperationsAsync(id, CancellationToken.None)).Single(o => o.Key == "say").Flow);

        var loose = await Store.CreateOperationAsync(Body($$$"""{"flow":"{{{id}}}","key":"loose","type":"log"}"""), Actor, CancellationToken.None);
        await Store.UpdateOperationAsync(loose, Body($$$"""{"flow":"{{{other}}}"}"""), Actor, CancellationToken.None);
        Assert.Equal("loose", (await Store.OperationsAsync(other, CancellationToken.None)).Single().Key);
    }

    [Fact]
    public async Task Bad_input_is_400_naming_the_field_and_writes_nothing()
    {
        async Task<string> Create(string json) => await RefusedAsync(() => Store.CreateFlowAsync(Body(json), Actor, CancellationToken.None));

        Assert.Equal("operations[0].resolve", await Create($$$"""
            {"name":"Loop","trigger":"manual","operations":[
              {"id":"{{{A}}}","key":"a","type":"log","resolve":"{{{B}}}"},{"id":"{{{B}}}","key":"b","type":"log","resolve":"{{{A}}}"}]}
            """));
        Assert.Equal("operations[0].type", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"teleport"}]}"""));
        Assert.Equal("operations[0].type", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"mail"}]}"""));
        Assert.Equal("operations[0].options.code", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"exec"}]}""")); // its code is required
        Assert.Equal("operations[0].options.colour", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"log","options":{"colour":1}}]}"""));
        Assert.Equal("operations[0].options.milliseconds", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"sleep","options":{"milliseconds":"soon"}}]}"""));
        Assert.Equal("operations[0].options.filter", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"condition","options":{"filter":{"x":{"_near":1}}}}]}"""));
        Assert.Equal("operations[0].options.permissions", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"item-read","options":{"collection":"a","permissions":"$root"}}]}"""));
        Assert.Equal("operations[0].options.collection", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"item-create","options":{}}]}"""));
        Assert.Equal("operations[0].options.json", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"transform","options":{"json":{"x":"{{ nowhere.y }}"}}}]}"""));
        Assert.Equal("operations[1].key", await Create("""{"name":"X","trigger":"manual","operations":[{"key":"a","type":"log"},{"key":"a","type":"log"}]}"""));
        Assert.Equal("options.cron", await Create("""{"name":"S","trigger":"schedule","options":{"cron":"every tuesday"}}"""));
        Assert.Equal("options.cron", await Create("""{"name":"S","trigger":"schedule","options":{}}"""));
        Assert.Equal("options.method", await Create("""{"name":"S","trigger":"webhook","options":{"method":"PUT"}}"""));
        Assert.Equal("trigger", await Create("""{"name":"S","trigger":"sometimes"}"""));
        Assert.Equal("name", await Create("""{"trigger":"manual"}"""));
        Assert.Equal("operation", await Create($$$"""{"name":"S","trigger":"manual","operation":"{{{C}}}"}"""));
        Assert.Equal(0, await CountAsync("select count(*) from directus_flows") + await CountAsync("select count(*) from directus_operations")
            + await CountAsync("select count(*) from content_activity"));

        // a change to a stored flow that would close a cycle leaves it as it was
        var id = await CreateThreeAsync();
        Assert.Equal("resolve", await RefusedAsync(() => Store.UpdateOperationAsync(Guid.Parse(B), Body($$$"""{"resolve":"{{{A}}}"}"""), Actor, CancellationToken.None)));
        Assert.Null((await Store.OperationsAsync(id, CancellationToken.None)).Single(o => o.Key == "say").Resolve);
        Assert.Equal("options.cron", await RefusedAsync(() => Store.UpdateFlowAsync(id, Body("""{"trigger":"schedule","options":{"cron":"61 * * * *"}}"""), Actor, CancellationToken.None)));
        Assert.Equal("manual", (await Store.FlowAsync(id, CancellationToken.None))!.Trigger);
        await Store.UpdateFlowAsync(id, Body("""{"trigger":"schedule","options":{"cron":"*/5 * * * *"}}"""), Actor, CancellationToken.None);
    }
}
