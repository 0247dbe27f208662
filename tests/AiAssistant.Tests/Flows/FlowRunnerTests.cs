using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.Services.Tools.Flows;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Tools;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;
using static AiAssistant.Tests.Content.Schema.SchemaDatabase;

namespace AiAssistant.Tests.Flows;

/// <summary>The run engine against a real content database: the data chain, each operation type, resolve and reject, permissions, the run record.</summary>
[Collection(ServersCollection.Name)]
public sealed class FlowRunnerTests(ServersFixture servers) : IAsyncLifetime
{
    private ToolsDatabase _db = null!;
    private static readonly FlowActor Actor = new(Guid.Parse(ToolsDatabase.Admin.UserId), "127.0.0.1", "test", null);

    private FlowStore Store => _db.Services.GetRequiredService<FlowStore>();
    private FlowRunner Runner => _db.Services.GetRequiredService<FlowRunner>();

    public async Task InitializeAsync()
    {
        _db = await ToolsDatabase.CreateAsync(servers, "flowrun");
        await _db.Schema.CreateCollectionAsync(Body("""
            {"collection":"articles","schema":{},"fields":[{"field":"title","type":"string"},{"field":"views","type":"integer"}]}
            """), CancellationToken.None);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static string Op(int n) => $"00000000-0000-0000-0000-0000000000{n:00}";

    /// <summary>A flow of operations given as (key, type, options, resolve index, reject index); the first is the flow's first.</summary>
    private async Task<FlowRecord> FlowAsync(string trigger, string flowOptions, params (string Key, string Type, string Options, int? Resolve, int? Reject)[] operations)
    {
        var offset = Random.Shared.Next(10, 90 - operations.Length);
        var list = new JsonArray(operations.Select((o, i) => (JsonNode)new JsonObject
        {
            ["id"] = Op(offset + i), ["key"] = o.Key, ["type"] = o.Type, ["options"] = JsonNode.Parse(o.Options),
            ["resolve"] = o.Resolve is { } r ? Op(offset + r) : null, ["reject"] = o.Reject is { } j ? Op(offset + j) : null,
        }).ToArray());
        var id = await Store.CreateFlowAsync(new JsonObject
        {
            ["name"] = "test", ["trigger"] = trigger, ["options"] = JsonNode.Parse(flowOptions), ["operations"] = list,
            ["operation"] = operations.Length > 0 ? Op(offset) : null,
        }, Actor, CancellationToken.None);
        return (await Store.FlowAsync(id, CancellationToken.None))!;
    }

    private Task<FlowResult> RunAsync(FlowRecord flow, string trigger, CallerIdentity? caller = null) =>
        Runner.RunAsync(flow, JsonNode.Parse(trigger), caller ?? ToolsDatabase.Admin, Actor, CancellationToken.None);

    private async Task<List<JsonObject?>> RunRecordsAsync(Guid flow)
    {
        await using var cmd = _db.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            "select r.data::text from content_activity a left join content_revisions r on r.activity = a.id where a.action = 'run' and a.collection = 'directus_flows' and a.item = $1 order by a.id");
        cmd.Parameters.AddWithValue(flow.ToString());
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<JsonObject?>();
        while (await reader.ReadAsync()) rows.Add(reader.IsDBNull(0) ? null : JsonNode.Parse(reader.GetString(0))!.AsObject());
        return rows;
    }

    private static readonly (string, string, string, int?, int?)[] Publish =
    [
        ("check", "condition", """{"filter":{"$trigger":{"body":{"status":{"_eq":"published"}}}}}""", 1, 4),
        ("make", "transform", """{"json":{"title":"{{ $trigger.body.title }}","views":"{{ $trigger.body.views }}","note":"by {{ $accountability.user }}"}}""", 2, null),
        ("create", "item-create", """{"collection":"articles","payload":{"title":"{{ make.title }}","views":"{{ make.views }}"}}""", 3, null),
        ("read", "item-read", """{"collection":"articles","key":"{{ create }}","query":{"fields":["id","title","views"]}}""", null, null),
        ("fail", "throw-error", """{"code":"NOT_PUBLISHED","status":422,"message":"{{ $trigger.body.title }} is not published"}""", null, null),
    ];

    [Fact]
    public async Task The_data_chain_carries_each_operations_data_under_its_key_along_the_resolve_path()
    {
        var flow = await FlowAsync("manual", """{"collections":["articles"]}""", Publish);
        var run = await RunAsync(flow, """{"body":{"status":"published","title":"Hello","views":7}}""");

        Assert.Equal("resolve", run.Status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"title":"Hello","views":7,"note":"by {{ToolsDatabase.Admin.UserId}}"}"""), run.Chain["make"]), run.Chain.ToJsonString());
        Assert.Null(run.Chain["check"]); // a condition that holds has no data
        Assert.Equal(1, run.Chain["create"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"id":1,"title":"Hello","views":7}"""), run.Result), run.Result?.ToJsonString()); // manual: $last
        Assert.True(JsonNode.DeepEquals(run.Chain["read"], run.Chain["$last"]));
        Assert.Null(run.Chain["fail"]);
        Assert.Equal("Hello", (await _db.Items.ReadManyAsync("articles", [JsonValue.Create(1)], AiAssistant.Services.Tools.Content.Query.ItemQuery.Default,
            AiAssistant.Services.Tools.Content.Permissions.CallerPermissions.Admin, _db.Services.GetRequiredService<AiAssistant.Services.Tools.Content.Items.ItemsReader>().Context(null, null, []),
            CancellationToken.None))[0]!["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failing_operation_follows_reject_and_the_run_is_recorded_with_its_steps()
    {
        var flow = await FlowAsync("manual", """{"collections":["articles"]}""", Publish);
        var run = await RunAsync(flow, """{"body":{"status":"draft","title":"Draft"},"headers":{"Authorization":"Bearer secret-token","accept":"application/json"}}""");

        Assert.Equal("reject", run.Status);
        Assert.Equal("FAILED_VALIDATION", run.Chain["check"]![0]!["code"]!.GetValue<string>()); // the condition's errors are its data
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"code":"NOT_PUBLISHED","status":422,"message":"Draft is not published"}"""), run.Chain["fail"]));
        Assert.Null(run.Chain["create"]);

        var record = Assert.Single(await RunRecordsAsync(flow.Id))!;
        Assert.Equal(("manual", "reject"), (record["trigger"]!.GetValue<string>(), record["status"]!.GetValue<string>()));
        Assert.Equal(["check", "fail"], record["steps"]!.AsArray().Select(s => s!["key"]!.GetValue<string>()));
        Assert.Equal(["reject", "reject"], record["steps"]!.AsArray().Select(s => s!["status"]!.GetValue<string>()));
        Assert.Equal("Draft is not published", record["steps"]![1]!["options"]!["message"]!.GetValue<string>()); // options as rendered
        Assert.True(record["duration_ms"]!.GetValue<double>() >= 0);
        Assert.Equal(FlowRunner.Redacted, record["data"]!["$trigger"]!["headers"]!["Authorization"]!.GetValue<string>());
        Assert.Equal("application/json", record["data"]!["$trigger"]!["headers"]!["accept"]!.GetValue<string>());
        Assert.DoesNotContain("secret-token", record.ToJsonString());
    }

    [Fact]
    public async Task Item_operations_run_as_the_trigger_s_user_or_with_full_access_as_configured()
    {
        var reader = _db.Grant("00000000-0000-0000-0000-0000000000b7", ToolsDatabase.Rule("articles", "read"));
        var asUser = await FlowAsync("manual", "{}", ("create", "item-create", """{"collection":"articles","payload":{"title":"mine"}}""", null, null));
        var denied = await RunAsync(asUser, "{}", reader);
        Assert.Equal("reject", denied.Status);
        Assert.Equal("FORBIDDEN", denied.Chain["create"]!["code"]!.GetValue<string>());

        var full = await FlowAsync("manual", "{}",
            ("create", "item-create", """{"collection":"articles","permissions":"$full","payload":[{"title":"a","views":1},{"title":"b","views":2}]}""", 1, null),
            ("bump", "item-update", """{"collection":"articles","permissions":"$full","key":"{{ create }}","payload":{"views":10}}""", 2, null),
            ("drop", "item-delete", """{"collection":"articles","permissions":"$full","query":{"filter":{"title":{"_eq":"a"}}}}""", 3, null),
            ("left", "item-read", """{"collection":"articles","query":{"fields":["title","views"]}}""", null, null));
        var run = await RunAsync(full, "{}", reader);
        Assert.Equal("resolve", run.Status);
        Assert.Equal([1, 2], run.Chain["create"]!.AsArray().Select(k => k!.GetValue<int>()));
        Assert.Equal([1, 2], run.Chain["bump"]!.AsArray().Select(k => k!.GetValue<int>()));
        Assert.Equal(1, run.Chain["drop"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"title":"b","views":10}]"""), run.Chain["left"]), run.Chain["left"]?.ToJsonString()); // read as the user: allowed
    }

    [Fact]
    public async Task Log_sleep_and_a_flow_triggered_by_another_answer_their_data()
    {
        var doubled = await FlowAsync("operation", """{"return":"$last"}""", ("twice", "transform", """{"json":{"n":"{{ $trigger.n }}","label":"n={{ $trigger.n }}"}}""", null, null));
        var caller = await FlowAsync("manual", "{}",
            ("say", "log", """{"message":"starting {{ $trigger.body.name }}"}""", 1, null),
            ("wait", "sleep", """{"milliseconds":5}""", 2, null),
            ("each", "trigger", $$"""{"flow":"{{doubled.Id}}","payload":[{"n":1},{"n":2}]}""", 3, null),
            ("one", "trigger", $$"""{"flow":"{{doubled.Id}}","payload":{"n":3} }""", null, null));
        var run = await RunAsync(caller, """{"body":{"name":"job"}}""");

        Assert.Equal("resolve", run.Status);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""[{"n":1,"label":"n=1"},{"n":2,"label":"n=2"}]"""), run.Chain["each"]), run.Chain["each"]?.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"n":3,"label":"n=3"}"""), run.Chain["one"]));
        var record = (await RunRecordsAsync(caller.Id)).Single()!;
        Assert.Equal("starting job", record["steps"]![0]!["options"]!["message"]!.GetValue<string>());
        Assert.Equal(3, (await RunRecordsAsync(doubled.Id)).Count); // the triggered flow records its own runs

        var inactive = await FlowAsync("manual", "{}", ("go", "trigger", $$"""{"flow":"{{caller.Id}}"}""", null, null));
        Assert.Equal("reject", (await RunAsync(inactive, "{}")).Status); // a manual flow is not an operation flow
    }

    [Fact]
    public async Task Accountability_activity_records_the_run_without_its_data_and_null_records_nothing()
    {
        var flow = await FlowAsync("manual", "{}", ("say", "log", """{"message":"x"}""", null, null));
        await Store.UpdateFlowAsync(flow.Id, Body("""{"accountability":"activity"}"""), Actor, CancellationToken.None);
        await RunAsync((await Store.FlowAsync(flow.Id, CancellationToken.None))!, "{}");
        Assert.Null(Assert.Single(await RunRecordsAsync(flow.Id)));

        await Store.UpdateFlowAsync(flow.Id, Body("""{"accountability":null}"""), Actor, CancellationToken.None);
        await RunAsync((await Store.FlowAsync(flow.Id, CancellationToken.None))!, "{}");
        Assert.Single(await RunRecordsAsync(flow.Id));
    }

    [Fact]
    public async Task A_request_follows_the_import_s_address_rules_and_its_header_values_are_not_recorded()
    {
        await using var server = await AiAssistant.Tests.Content.Files.ImportServer.StartAsync([1], 1);
        var flow = await FlowAsync("manual", "{}",
            ("send", "request", $$$"""
                {"method":"POST","url":"http://localhost:{{{server.Port}}}/echo","body":"{\"n\": {{ $trigger.n }} }",
                 "headers":[{"header":"X-Token","value":"s3cret-{{ $trigger.n }}"},{"header":"Authorization","value":"Bearer zzz"}]}
                """, 1, null),
            ("tea", "request", $$$"""{"url":"http://localhost:{{{server.Port}}}/teapot"}""", null, 2),
            ("local", "request", $$$"""{"url":"http://127.0.0.1:{{{server.Port}}}/teapot"}""", null, null));
        var run = await RunAsync(flow, """{"n":5}""");

        Assert.Equal(200, run.Chain["send"]!["status"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"body":{"n":5},"tokenLength":8}"""), run.Chain["send"]!["data"]), run.Chain["send"]!.ToJsonString());
        Assert.Equal((418, "coffee"), (run.Chain["tea"]!["status"]!.GetValue<int>(), run.Chain["tea"]!["data"]!["no"]!.GetValue<string>())); // non-2xx: reject
        Assert.Contains("loopback", run.Chain["local"]!["message"]!.GetValue<string>()); // 127.0.0.1 is refused as in an import
        Assert.Equal("reject", run.Status);

        var record = (await RunRecordsAsync(flow.Id)).Single()!;
        Assert.Equal(["send", "tea", "local"], record["steps"]!.AsArray().Select(s => s!["key"]!.GetValue<string>()));
        Assert.Equal([FlowRunner.Redacted, FlowRunner.Redacted], record["steps"]![0]!["options"]!["headers"]!.AsArray().Select(h => h!["value"]!.GetValue<string>()));
        Assert.DoesNotContain("s3cret", record.ToJsonString());
        Assert.DoesNotContain("zzz", record.ToJsonString());
    }

    private const string Secret = "a-flow-signing-secret-of-32-bytes!";

    [Fact]
    public async Task Json_web_token_signs_verifies_and_decodes_and_neither_the_secret_nor_the_token_is_recorded()
    {
        var flow = await FlowAsync("manual", "{}",
            ("sign", "json-web-token", $$$"""{"operation":"sign","secret":"{{{Secret}}}","payload":{"sub":"{{ $trigger.user }}","role":"editor"},"options":{"expiresIn":"1h","issuer":"cms"}}""", 1, null),
            ("check", "json-web-token", $$$"""{"operation":"verify","secret":"{{{Secret}}}","token":"{{ sign }}","options":{"issuer":"cms"}}""", 2, null),
            ("peek", "json-web-token", """{"operation":"decode","token":"{{ sign }}"}""", 3, null),
            ("forged", "json-web-token", """{"operation":"verify","secret":"another-secret-that-is-32-bytes-long","token":"{{ sign }}"}""", null, 4),
            ("wrongIssuer", "json-web-token", $$$"""{"operation":"verify","secret":"{{{Secret}}}","token":"{{ sign }}","options":{"issuer":"elsewhere"}}""", null, 5),
            ("old", "json-web-token", $$$"""{"operation":"sign","secret":"{{{Secret}}}","payload":{"exp":1000}}""", 6, null),
            ("expired", "json-web-token", $$$"""{"operation":"verify","secret":"{{{Secret}}}","token":"{{ old }}"}""", null, 7),
            ("short", "json-web-token", """{"operation":"sign","secret":"short","payload":{"a":1}}""", null, null));
        var run = await RunAsync(flow, """{"user":"u-7"}""");

        var token = run.Chain["sign"]!.GetValue<string>();
        Assert.Equal(3, token.Split('.').Length);
        var verified = run.Chain["check"]!.AsObject();
        Assert.Equal(("u-7", "editor", "cms"), (verified["sub"]!.GetValue<string>(), verified["role"]!.GetValue<string>(), verified["iss"]!.GetValue<string>()));
        Assert.Equal(3600, verified["exp"]!.GetValue<long>() - verified["iat"]!.GetValue<long>());
        Assert.True(JsonNode.DeepEquals(verified, run.Chain["peek"]));
        Assert.Equal("invalid signature", run.Chain["forged"]!["message"]!.GetValue<string>());
        Assert.Equal("jwt issuer invalid", run.Chain["wrongIssuer"]!["message"]!.GetValue<string>());
        Assert.Equal("jwt expired", run.Chain["expired"]!["message"]!.GetValue<string>());
        Assert.Equal("\"secret\" must be at least 32 bytes for this algorithm", run.Chain["short"]!["message"]!.GetValue<string>());
        Assert.Equal("reject", run.Status);

        var record = (await RunRecordsAsync(flow.Id)).Single()!.ToJsonString();
        Assert.DoesNotContain(Secret, record);
        Assert.DoesNotContain(token, record);
        Assert.DoesNotContain(token.Split('.')[2], record); // not even its signature
        Assert.Contains("\"role\":\"editor\"", record); // what a verify or decode answers is kept
    }

    [Fact]
    public async Task Env_shows_only_the_allowed_variables_and_the_record_keeps_none_of_their_values()
    {
        Environment.SetEnvironmentVariable("AIASSISTANT_TEST_FLOW_VISIBLE", "visible-value-7d1");
        Environment.SetEnvironmentVariable("AIASSISTANT_TEST_FLOW_HIDDEN", "hidden-value-9c2");
        var flow = await FlowAsync("manual", "{}",
            ("show", "transform", """{"json":{"visible":"{{ $env.AIASSISTANT_TEST_FLOW_VISIBLE }}","hidden":"{{ $env.AIASSISTANT_TEST_FLOW_HIDDEN }}","path":"{{ $env.PATH }}"}}""", null, null));
        var run = await RunAsync(flow, "{}");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"visible":"visible-value-7d1","hidden":null,"path":null}"""), run.Chain["show"]), run.Chain["show"]?.ToJsonString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"AIASSISTANT_TEST_FLOW_VISIBLE":"visible-value-7d1","AIASSISTANT_TEST_FLOW_UNSET":null}"""), run.Chain["$env"]));
        var record = (await RunRecordsAsync(flow.Id)).Single()!;
        Assert.Equal(FlowRunner.Redacted, record["data"]!["$env"]!["AIASSISTANT_TEST_FLOW_VISIBLE"]!.GetValue<string>());
        Assert.DoesNotContain("hidden-value-9c2", record.ToJsonString());
    }

    [Fact]
    public async Task Exec_runs_javascript_on_the_data_chain_and_stops_loops_endless_allocation_deep_recursion_and_io_with_a_clear_error()
    {
        var flow = await FlowAsync("manual", "{}",
            ("sum", "exec", """{"code":"module.exports = async function (data) { const n = data.$trigger.numbers; await null; return { total: n.reduce((a, b) => a + b, 0), env: Object.keys(data.$env) }; }"}""", 1, null),
            ("loop", "exec", """{"code":"module.exports = function () { while (true) {} }"}""", null, 2),
            ("hoard", "exec", """{"code":"module.exports = function () { const all = []; while (true) all.push(new Array(100000).fill(1)); }"}""", null, 3),
            ("deep", "exec", """{"code":"module.exports = function () { function down(n) { return down(n + 1) + 1; } return down(0); }"}""", null, 4),
            ("files", "exec", """{"code":"module.exports = function () { return require('fs').readFileSync('/etc/passwd', 'utf8'); }"}""", null, 5),
            ("net", "exec", """{"code":"module.exports = async function () { return await fetch('http://127.0.0.1/'); }"}""", null, 6),
            ("clr", "exec", """{"code":"module.exports = function () { return importNamespace('System.IO').File.ReadAllText('/etc/passwd'); }"}""", null, 7),
            ("thrown", "exec", """{"code":"module.exports = async function (data) { throw new Error('no ' + data.$trigger.numbers.length); }"}""", null, null));
        var run = await RunAsync(flow, """{"numbers":[1,2,3.5]}""");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"total":6.5,"env":["AIASSISTANT_TEST_FLOW_VISIBLE","AIASSISTANT_TEST_FLOW_UNSET"]}"""), run.Chain["sum"]), run.Chain["sum"]?.ToJsonString());
        string Message(string key) => run.Chain[key]!["message"]!.GetValue<string>();
        Assert.Equal("The script was stopped: it ran longer than its limit of 1 s", Message("loop"));
        Assert.Equal("The script was stopped: it allocated more than its limit of 32 MB", Message("hoard"));
        Assert.Equal("The script was stopped: it nested its calls deeper than its limit of 256", Message("deep"));
        foreach (var (key, name) in new[] { ("files", "require"), ("net", "fetch"), ("clr", "importNamespace") })
            Assert.Equal($"The script failed: {name} is not defined (a script has no I/O: no modules, network, files or process)", Message(key));
        Assert.Equal("The script failed: no 3", Message("thrown"));
        Assert.Equal("reject", run.Status);
    }

    [Fact]
    public async Task Exec_code_that_does_not_parse_or_is_not_text_is_refused_naming_the_field()
    {
        foreach (var code in new[] { "\"module.exports = function ( {\"", "42" })
        {
            var e = await Assert.ThrowsAsync<AiAssistant.ServiceDefaults.Errors.DirectusException>(() => FlowAsync("manual", "{}", ("run", "exec", $$"""{"code":{{code}}}""", null, null)));
            Assert.Equal((400, "operations[0].options.code"), (e.Status, e.Extensions!["field"]));
        }
    }

    [Fact]
    public async Task A_notification_is_stored_for_each_recipient_from_the_trigger_s_user_and_a_bad_recipient_rejects()
    {
        const string Ann = "00000000-0000-0000-0000-0000000000e1", Bob = "00000000-0000-0000-0000-0000000000e2";
        var flow = await FlowAsync("manual", "{}",
            ("tell", "notification", """{"recipient":"{{ $trigger.to }}","subject":"{{ $trigger.what }} is ready","message":"See item {{ $trigger.item }}","collection":"articles","item":"{{ $trigger.item }}"}""", 1, null),
            ("nobody", "notification", """{"recipient":"not-a-user","subject":"x"}""", null, null));
        var run = await RunAsync(flow, $$"""{"to":"{{Ann}}, {{Bob}}","what":"Report","item":7}""");

        Assert.Equal(2, run.Chain["tell"]!.AsArray().Count);
        Assert.Equal("\"recipient\" must name users by their ids, not \"not-a-user\"", run.Chain["nobody"]!["message"]!.GetValue<string>());
        await using var cmd = _db.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
            "select recipient::text, sender::text, subject, message, collection, item, status from directus_notifications order by recipient");
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(string.Join("|", Enumerable.Range(0, 7).Select(i => reader.GetString(i))));
        Assert.Equal([$"{Ann}|{ToolsDatabase.Admin.UserId}|Report is ready|See item 7|articles|7|inbox", $"{Bob}|{ToolsDatabase.Admin.UserId}|Report is ready|See item 7|articles|7|inbox"], rows);
    }
}
