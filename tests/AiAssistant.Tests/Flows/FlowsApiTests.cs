using System.Net;
using System.Text.Json.Nodes;
using AiAssistant.Tests.Access;
using AiAssistant.Tests.EndToEnd;
using AiAssistant.Tests.Infrastructure;
using Xunit;

namespace AiAssistant.Tests.Flows;

/// <summary><c>/flows</c>, <c>/operations</c> and <c>/flows/trigger/:id</c> through the gateway: Directus's shapes, its error envelope, admins only.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class FlowsApiTests(EndToEndFixture e2e)
{
    private static Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string path, string? json = null) =>
        client.SendJsonAsync(method, path, json);

    private Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null) => e2e.Gateway.SendJsonAsync(method, path, json);

    [Fact]
    public async Task Flows_and_operations_are_created_read_updated_and_deleted_in_directus_shapes()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/flows", """{"name":"Echo","trigger":"webhook","options":{"method":"POST"},"accountability":"all"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var flow = body!["data"]!;
        var id = flow["id"]!.GetValue<string>();
        Assert.Equal(["id", "name", "icon", "color", "description", "status", "trigger", "accountability", "options", "operation", "date_created", "user_created", "operations"],
            flow.AsObject().Select(p => p.Key));
        Assert.Equal(("active", 0), (flow["status"]!.GetValue<string>(), flow["operations"]!.AsArray().Count));

        (status, body) = await SendAsync(HttpMethod.Post, "/operations", $$$"""{"flow":"{{{id}}}","key":"echo","type":"transform","options":{"json":{"got":"{{ $trigger.body.value }}"} } }""");
        Assert.Equal(HttpStatusCode.OK, status);
        var operation = body!["data"]!;
        Assert.Equal((19, 1, id), (operation["position_x"]!.GetValue<int>(), operation["position_y"]!.GetValue<int>(), operation["flow"]!.GetValue<string>()));
        var operationId = operation["id"]!.GetValue<string>();

        (status, body) = await SendAsync(HttpMethod.Patch, $"/flows/{id}", $$"""{"operation":"{{operationId}}"}""");
        Assert.Equal((HttpStatusCode.OK, operationId), (status, body!["data"]!["operation"]!.GetValue<string>()));
        Assert.Equal([operationId], body["data"]!["operations"]!.AsArray().Select(o => o!.GetValue<string>()));

        (_, body) = await SendAsync(HttpMethod.Get, $"/flows?filter[id][_eq]={id}");
        Assert.Equal(id, body!["data"]!.AsArray().Single()!["id"]!.GetValue<string>());
        (_, body) = await SendAsync(HttpMethod.Get, $"/operations/{operationId}");
        Assert.Equal("echo", body!["data"]!["key"]!.GetValue<string>());

        // a webhook flow answers with its last operation's data, to anyone
        using var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null);
        (status, body) = await SendAsync(anonymous, HttpMethod.Post, $"/flows/trigger/{id}", """{"value":{"n":1}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"got":{"n":1}}"""), body), body?.ToJsonString());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(anonymous, HttpMethod.Get, $"/flows/trigger/{id}")).Status); // not its method

        // the run is readable by admins as activity and its revision
        (_, body) = await SendAsync(HttpMethod.Get, $"/activity?filter[action][_eq]=run&filter[item][_eq]={id}");
        Assert.Single(body!["data"]!.AsArray());
        (_, body) = await SendAsync(HttpMethod.Get, $"/revisions?filter[collection][_eq]=directus_flows&filter[item][_eq]={id}&filter[activity][action][_eq]=run");
        Assert.Equal("echo", body!["data"]!.AsArray().Single()!["data"]!["steps"]![0]!["key"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/operations/{operationId}")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/flows/{id}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, $"/flows/{id}")).Status);
    }

    [Fact]
    public async Task Bad_input_is_400_in_the_directus_envelope_naming_the_field_and_non_admins_are_refused()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/flows", """{"name":"Tick","trigger":"schedule","options":{"cron":"every day"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body!["errors"]![0]!;
        Assert.Equal(("INVALID_PAYLOAD", "options.cron"), (error["extensions"]!["code"]!.GetValue<string>(), error["extensions"]!["field"]!.GetValue<string>()));

        (status, body) = await SendAsync(HttpMethod.Post, "/flows", """{"name":"X","trigger":"manual","operations":[{"key":"a","type":"teleport"}]}""");
        Assert.Equal((HttpStatusCode.BadRequest, "operations[0].type"), (status, body!["errors"]![0]!["extensions"]!["field"]!.GetValue<string>()));
        (_, body) = await SendAsync(HttpMethod.Get, "/flows?filter[name][_in]=Tick,X");
        Assert.Empty(body!["data"]!.AsArray()); // nothing half-written

        using var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null);
        (status, body) = await SendAsync(anonymous, HttpMethod.Get, "/operations");
        Assert.Equal((HttpStatusCode.Forbidden, "FORBIDDEN"), (status, body!["errors"]![0]!["extensions"]!["code"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(anonymous, HttpMethod.Post, "/flows", """{"name":"X","trigger":"manual"}""")).Status);
    }

    [Fact]
    public async Task A_manual_flow_is_triggered_with_a_collection_and_keys_and_its_required_fields_are_checked()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/flows", """
            {"name":"Ask","trigger":"manual","options":{"collections":["directus_files"],"fields":[{"field":"reason","meta":{"required":true}}]},
             "operation":"7a000000-0000-4000-8000-000000000001",
             "operations":[{"id":"7a000000-0000-4000-8000-000000000001","key":"echo","type":"transform",
               "options":{"json":{"keys":"{{ $trigger.body.keys }}","reason":"{{ $trigger.body.reason }}","by":"{{ $accountability.admin }}"}}}]}
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        var id = body!["data"]!["id"]!.GetValue<string>();

        (status, body) = await SendAsync(HttpMethod.Post, $"/flows/trigger/{id}", """{"collection":"directus_files","keys":["a","b"],"reason":"check"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"keys":["a","b"],"reason":"check","by":true}"""), body), body?.ToJsonString());

        (status, body) = await SendAsync(HttpMethod.Post, $"/flows/trigger/{id}", """{"collection":"directus_files","keys":["a"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Invalid payload. Required field \"reason\" is missing.", body!["errors"]![0]!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, $"/flows/trigger/{id}", """{"collection":"other","reason":"x"}""")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/flows/{id}")).Status);
    }

    [Fact]
    public async Task A_flow_s_notification_is_read_and_archived_by_its_recipient_alone()
    {
        var recipient = await AccessTestUsers.UserAsync(e2e.Gateway, app: true);
        var other = await AccessTestUsers.UserAsync(e2e.Gateway, app: true);
        var (status, body) = await SendAsync(HttpMethod.Post, "/flows", $$$"""
            {"name":"Tell","trigger":"manual","options":{"collections":["directus_files"]},"operation":"7b000000-0000-4000-8000-000000000001",
             "operations":[{"id":"7b000000-0000-4000-8000-000000000001","key":"tell","type":"notification",
               "options":{"recipient":["{{{recipient.Id}}}"],"subject":"Files {{ $trigger.body.keys }} checked","collection":"directus_files"} }]}
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        var flow = body!["data"]!["id"]!.GetValue<string>();
        (status, body) = await SendAsync(HttpMethod.Post, $"/flows/trigger/{flow}", """{"collection":"directus_files","keys":["f1"]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var id = body!.GetValue<long>();

        using var mine = AccessTestUsers.Client(e2e.GatewayUrl, recipient.StaticToken);
        using var theirs = AccessTestUsers.Client(e2e.GatewayUrl, other.StaticToken);
        (status, body) = await SendAsync(mine, HttpMethod.Get, "/notifications?filter[status][_eq]=inbox");
        var notification = Assert.Single(body!["data"]!.AsArray())!;
        Assert.Equal((id, "directus_files", "Files [\"f1\"] checked", "inbox"), (notification["id"]!.GetValue<long>(), notification["collection"]!.GetValue<string>(),
            notification["subject"]!.GetValue<string>(), notification["status"]!.GetValue<string>()));
        Assert.Empty((await SendAsync(theirs, HttpMethod.Get, "/notifications")).Body!["data"]!.AsArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(theirs, HttpMethod.Get, $"/notifications/{id}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(theirs, HttpMethod.Patch, $"/notifications/{id}", """{"status":"archived"}""")).Status);

        (status, body) = await SendAsync(mine, HttpMethod.Patch, $"/notifications/{id}", """{"subject":"mine now"}""");
        Assert.Equal((HttpStatusCode.BadRequest, "subject"), (status, body!["errors"]![0]!["extensions"]!["field"]!.GetValue<string>()));
        (status, body) = await SendAsync(mine, HttpMethod.Patch, $"/notifications/{id}", """{"status":"archived"}""");
        Assert.Equal((HttpStatusCode.OK, "archived"), (status, body!["data"]!["status"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/flows/{flow}")).Status);
    }

    [Fact]
    public async Task A_filter_flow_s_refusal_reaches_the_writer_as_its_4xx_in_the_envelope_and_nothing_is_written()
    {
        var collection = "guarded_" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/collections",
            $$"""{"collection":"{{collection}}","schema":{},"fields":[{"field":"title","type":"string"}]}""")).Status);
        var (status, body) = await SendAsync(HttpMethod.Post, "/flows", $$$"""
            {"name":"Guard","trigger":"event","options":{"type":"filter","scope":["items.create"],"collections":["{{{collection}}}"],"return":"$last"},
             "operation":"7c000000-0000-4000-8000-000000000001","operations":[
              {"id":"7c000000-0000-4000-8000-000000000001","key":"check","type":"condition","options":{"filter":{"$trigger":{"payload":{"title":{"_nempty":true} } } } },
               "resolve":"7c000000-0000-4000-8000-000000000002","reject":"7c000000-0000-4000-8000-000000000003"},
              {"id":"7c000000-0000-4000-8000-000000000002","key":"tidy","type":"transform","options":{"json":{"title":"{{ $trigger.payload.title }}!"} } },
              {"id":"7c000000-0000-4000-8000-000000000003","key":"refuse","type":"throw-error","options":{"code":"TITLE_REQUIRED","status":422,"message":"A title is required"} }]}
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        var flow = body!["data"]!["id"]!.GetValue<string>();

        (status, body) = await SendAsync(HttpMethod.Post, $"/items/{collection}", """{"title":"Hello"}""");
        Assert.Equal((HttpStatusCode.OK, "Hello!"), (status, body!["data"]!["title"]!.GetValue<string>()));
        (status, body) = await SendAsync(HttpMethod.Post, $"/items/{collection}", """{"title":""}""");
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "TITLE_REQUIRED", "A title is required"), (status,
            body!["errors"]![0]!["extensions"]!["code"]!.GetValue<string>(), body["errors"]![0]!["message"]!.GetValue<string>()));
        (_, body) = await SendAsync(HttpMethod.Get, $"/items/{collection}?fields=title");
        Assert.Equal(["Hello!"], body!["data"]!.AsArray().Select(i => i!["title"]!.GetValue<string>()));
        (_, body) = await SendAsync(HttpMethod.Get, $"/revisions?filter[collection][_eq]=directus_flows&filter[item][_eq]={flow}&filter[activity][action][_eq]=run&sort=id");
        Assert.Equal(["resolve", "reject"], body!["data"]!.AsArray().Select(r => r!["data"]!["status"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(HttpMethod.Delete, $"/flows/{flow}")).Status);
    }
}
