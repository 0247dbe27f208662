using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.Services.Tools.Content.Items;
using AiAssistant.Services.Tools.Content.Permissions;
using AiAssistant.Services.Tools.Content.Schema;
using AiAssistant.Services.Tools.ToolRegistry;
using AiAssistant.Tests.Content.Schema;
using AiAssistant.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AiAssistant.Tests.Tools;

/// <summary>
/// The registry's mechanics over synthetic tools: visibility, search (BM25 ranking, names mode with type strings),
/// the pipeline's coercion and strict validation, error envelopes, the delete guard, and approvals (issued, redeemed
/// once, refused when forged, edited, replayed or someone else's) against a real database.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ToolRegistryTests(ServersFixture servers) : IAsyncLifetime
{
    private static readonly CallerIdentity Admin = new("00000000-0000-0000-0000-00000000000a", null, true, true);
    private static readonly CallerIdentity Editor = new("00000000-0000-0000-0000-00000000000e", "r1", false, true);
    private SchemaDatabase _db = null!;
    private ToolRegistry _registry = null!;
    private readonly RecordingHandler _notes = new("notes");

    public async Task InitializeAsync()
    {
        _db = await SchemaDatabase.CreateAsync(servers, "registry");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Internal:Token"] = new string('k', 40), ["PublicUrl"] = "https://cms.example",
        }).Build();
        var approvals = new ToolApprovals(configuration, _db.Data, TimeProvider.System);
        await _db.ExecAsync(approvals.Sql);
        var manifests = ToolCatalog.Load().Where(m => m.Root).Concat([Notes, Weather, AdminOnly, Prompt]).ToList();
        _registry = new ToolRegistry(manifests, [_notes, new RecordingHandler("weather"), new RecordingHandler("admin-tool"),
                new RecordingHandler("system-prompt"), new Schema()],
            new AdminPermissions(), new ItemsReader(_db.Data, _db.Cache, TimeProvider.System), approvals, configuration, NullLogger<ToolRegistry>.Instance);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    private static ToolScope Chat(params string[] names) => new(ToolSurface.Chat, names.ToHashSet(), ToolScope.NoApprovals);
    private static ToolScope Mcp(bool allowDeletes = true) => new(ToolSurface.Mcp, null, ToolScope.NoApprovals, allowDeletes);

    private Task<ToolOutcome> Root(string name, string input, ToolScope scope, CallerIdentity? caller = null, ApprovalAnswer? approval = null) =>
        _registry.CallRootAsync(name, JsonNode.Parse(input), caller ?? Admin, scope, approval ?? new ApprovalAnswer("call_1", null), CancellationToken.None);

    [Fact]
    public async Task Query_search_ranks_by_bm25_with_the_exact_name_first_and_hides_what_is_not_visible()
    {
        var found = await Root("search", """{"query":"forecast temperature"}""", Chat("notes", "weather"));
        Assert.Equal(["weather"], Names(found));

        var exact = await Root("search", """{"query":"notes"}""", Chat("notes", "weather"));
        Assert.Equal("notes", Names(exact)[0]);

        // not named by the request, admin-only for a non-admin, disabled: invisible
        Assert.Empty(Names(await Root("search", """{"query":"forecast"}""", Chat("notes"))));
        Assert.Empty(Names(await Root("search", """{"query":"dangerous"}""", Chat("admin-tool"), Editor)));
        Assert.Single(Names(await Root("search", """{"query":"dangerous"}""", Chat("admin-tool"), Admin)));
        var disabled = new ToolScope(ToolSurface.Chat, new HashSet<string> { "weather" }, new Dictionary<string, string> { ["weather"] = "disabled" });
        var none = await Root("search", """{"query":"forecast"}""", disabled);
        Assert.Empty(Names(none));
        Assert.StartsWith("No tools matched", none.Result!["hint"]!.GetValue<string>());

        var all = await Root("search", """{"query":""}""", Chat("notes", "weather"));
        Assert.Equal(["notes", "weather"], Names(all));
        Assert.Equal(["notes", "weather"], all.Result!["availableToolNames"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Names_search_gives_type_strings_and_instructions_and_exactly_one_mode_is_required()
    {
        var details = await Root("search", """{"names":["notes","nope"]}""", Chat("notes"));
        var notes = details.Result!["results"]![0]!;
        Assert.Equal("notes", notes["name"]!.GetValue<string>());
        var type = notes["inputType"]!.GetValue<string>();
        Assert.Contains("interface Input {", type);
        Assert.Contains("action: \"create\" | \"read\" | \"delete\"; // What to do", type);
        Assert.Contains("keys?: (string | number)[];", type);
        Assert.Contains("data?: {\n    title: string;\n    tags?: string[];\n  } | Record<string, unknown>[];", type);
        Assert.Equal("Write notes carefully.", notes["instructions"]!.GetValue<string>());
        Assert.Equal(["nope"], details.Result!["unknownNames"]!.AsArray().Select(n => n!.GetValue<string>()));

        foreach (var bad in new[] { "{}", """{"query":"x","names":["notes"]}""" })
        {
            var e = (await Root("search", bad, Chat("notes"))).Error!;
            Assert.Equal(("INVALID_PAYLOAD", "Provide exactly one of \"query\" or \"names\""), (e.Code, e.Message));
        }
    }

    [Fact]
    public async Task Execute_coerces_stringified_json_validates_strictly_per_action_and_links_a_single_record()
    {
        var ok = await Root("execute", """{"name":"notes","input":{"action":"read","keys":"[1, 2]"}}""", Chat("notes"));
        Assert.Null(ok.Error);
        Assert.Equal("[1,2]", _notes.Last!["keys"]!.ToJsonString());
        Assert.Equal("https://cms.example/admin/notes/7", ok.Url);
        var envelope = ok.ToEnvelope();
        Assert.True(envelope["ok"]!.GetValue<bool>());
        Assert.Equal(7, envelope["result"]![0]!["id"]!.GetValue<int>());

        // a whole input sent as a JSON string is parsed too
        Assert.Null((await Root("execute", """{"name":"notes","input":"{\"action\":\"read\"}"}""", Chat("notes"))).Error);

        foreach (var (input, message) in new[]
        {
            ("""{"action":"read","keys":"[1,"}""", "\"keys\" is a string that is not valid JSON"),
            ("""{"action":"fly"}""", "\"action\" must be one of \"create\", \"read\", \"delete\", not \"fly\""),
            ("""{"keys":[1]}""", "\"action\" is required"),
            ("""{"action":"delete"}""", "Required properties [\"keys\"] are not present"),
            ("""{"action":"read","color":"red"}""", "\"color\" is not a parameter of notes with action \"read\""),
            ("""{"action":"create","data":[{"title":5}]}""", "\"data[0].title\""),
        })
        {
            var error = (await Root("execute", $$"""{"name":"notes","input":{{input}}}""", Chat("notes"))).Error!;
            Assert.Equal("INVALID_PAYLOAD", error.Code);
            Assert.Contains(message, error.Message);
            Assert.True(error.Recoverable);
            Assert.Equal("""{"tool":"search","input":{"names":["notes"]}}""", error.Next!.ToJsonString());
        }
        Assert.Equal("INVALID_PAYLOAD", (await Root("execute", """{"name":"notes","input":[1]}""", Chat("notes"))).Error!.Code);
    }

    [Fact]
    public async Task Unknown_invisible_and_root_tools_answer_as_the_reference_does()
    {
        var unknown = (await Root("execute", """{"name":"weather","input":{}}""", Chat("notes"))).Error!;
        Assert.Equal(("UNKNOWN_TOOL", true), (unknown.Code, unknown.Recoverable));
        Assert.Equal("""{"tool":"search","input":{"query":"weather"}}""", unknown.Next!.ToJsonString());
        Assert.Equal("UNKNOWN_TOOL", (await Root("execute", """{"name":"admin-tool","input":{}}""", Chat("admin-tool"), Editor)).Error!.Code);
        Assert.Equal("INVALID_PAYLOAD", (await Root("execute", """{"name":"search","input":{}}""", Chat())).Error!.Code);
        Assert.Equal("UNKNOWN_META_TOOL", (await Root("items", "{}", Chat())).Error!.Code);
        Assert.Equal("INVALID_PAYLOAD", (await Root("execute", """{"input":{}}""", Chat())).Error!.Code);
        // system-prompt is hidden when the MCP setting turns it off
        var off = new ToolScope(ToolSurface.Mcp, null, ToolScope.NoApprovals, SystemPromptEnabled: false);
        Assert.DoesNotContain(_registry.Visible(Admin, off), t => t.Name == "system-prompt");
        Assert.Contains(_registry.Visible(Admin, Mcp()), t => t.Name == "system-prompt");
    }

    [Fact]
    public async Task Handler_failures_become_envelopes_without_internals()
    {
        _notes.Throw = DirectusException.InvalidPayload("\"title\" is required", "title");
        var bad = (await Root("execute", """{"name":"notes","input":{"action":"read"}}""", Chat("notes"))).Error!;
        Assert.Equal(("INVALID_PAYLOAD", true), (bad.Code, bad.Recoverable));
        _notes.Throw = DirectusException.Forbidden();
        Assert.Equal(("FORBIDDEN", false), ((await Root("execute", """{"name":"notes","input":{"action":"read"}}""", Chat("notes"))).Error!.Code, false));
        _notes.Throw = new InvalidOperationException("connection string Password=hunter2");
        var crash = (await Root("execute", """{"name":"notes","input":{"action":"read"}}""", Chat("notes"))).Error!;
        Assert.Equal("TOOL_EXECUTION_FAILED", crash.Code);
        Assert.DoesNotContain("hunter2", crash.Message);
    }

    [Fact]
    public async Task Mcp_refuses_deletes_when_not_allowed_and_never_asks_for_approval()
    {
        var refused = await _registry.ExecuteAsync("notes", JsonNode.Parse("""{"action":"delete","keys":[1]}"""), Admin, Mcp(allowDeletes: false), null, CancellationToken.None);
        Assert.Equal("Delete actions are disabled", refused.Error!.Message);
        Assert.Null(_notes.Last);
        var allowed = await _registry.ExecuteAsync("notes", JsonNode.Parse("""{"action":"delete","keys":[1]}"""), Admin, Mcp(), null, CancellationToken.None);
        Assert.Null(allowed.Error);
        Assert.Null(allowed.ApprovalRequired);
    }

    [Fact]
    public async Task A_write_waits_for_an_approval_the_server_issued_for_this_user_call_and_input_and_honours_it_once()
    {
        const string Input = """{"name":"notes","input":{"action":"create","data":[{"title":"Hi"}]}}""";
        // read-only calls never ask; "always" never asks
        Assert.Null((await Root("execute", """{"name":"notes","input":{"action":"read"}}""", Chat("notes"))).ApprovalRequired);
        var always = new ToolScope(ToolSurface.Chat, new HashSet<string> { "notes" }, new Dictionary<string, string> { ["notes"] = "always" });
        Assert.Null((await Root("execute", Input, always)).ApprovalRequired);
        _notes.Last = null;

        var asked = await Root("execute", Input, Chat("notes"), Editor, new ApprovalAnswer("call_9", null));
        var ticket = asked.ApprovalRequired!;
        Assert.StartsWith("apr_", ticket.Id);
        Assert.Null(_notes.Last); // nothing ran

        async Task<ToolOutcome> Answer(string input, CallerIdentity caller, string callId, ApprovalTicket t) =>
            await Root("execute", input, Chat("notes"), caller, new ApprovalAnswer(callId, t));

        // forged, edited, another call, another user: refused, nothing ran, and the real ticket stays good
        foreach (var refused in new[]
        {
            await Answer(Input, Editor, "call_9", ticket with { Signature = ticket.Signature[..^2] + "AA" }),
            await Answer(Input.Replace("Hi", "Pwned"), Editor, "call_9", ticket),
            await Answer(Input, Editor, "call_other", ticket),
            await Answer(Input, Editor with { UserId = "00000000-0000-0000-0000-0000000000ff" }, "call_9", ticket),
            await Answer(Input, Editor, "call_9", new ApprovalTicket("apr_1_00", ticket.Signature)),
        })
        {
            Assert.Equal("APPROVAL_INVALID", refused.Error!.Code);
            Assert.Null(_notes.Last);
        }
        // the same input re-serialised by the browser (other key order, spaces) is still the same input
        var reordered = """{"input":{"data":[{"title":"Hi"}],"action":"create"},"name":"notes"}""";
        var ran = await Answer(reordered, Editor, "call_9", ticket);
        Assert.Null(ran.Error);
        Assert.Equal("Hi", _notes.Last!["data"]![0]!["title"]!.GetValue<string>());
        _notes.Last = null;
        var replayed = await Answer(Input, Editor, "call_9", ticket);
        Assert.Contains("already used", replayed.Error!.Message);
        Assert.Null(_notes.Last);

        var denied = await Root("execute", Input, Chat("notes"), Editor, new ApprovalAnswer("call_9", ticket, Denied: true));
        Assert.Equal(("APPROVAL_DENIED", "denied"), (denied.Error!.Code, denied.Outcome));
        Assert.Null(_notes.Last);
        // a denial runs nothing even for a call that needed no approval
        var deniedRead = await Root("execute", """{"name":"notes","input":{"action":"read"}}""", Chat("notes"), Editor, new ApprovalAnswer("call_r", null, Denied: true));
        Assert.Equal("APPROVAL_DENIED", deniedRead.Error!.Code);
        Assert.Null(_notes.Last);
    }

    [Fact]
    public void Type_strings_render_nested_unions_records_and_enums()
    {
        var schema = JsonNode.Parse("""
            {"type":"object","required":["id"],"properties":{
              "id":{"type":["string","number"]},
              "filter":{"type":"object","additionalProperties":{"type":"boolean"}},
              "mode":{"enum":["a","b",null]},
              "any":{}}}
            """)!.AsObject();
        Assert.Equal("interface Input {\n  id: string | number;\n  filter?: Record<string, boolean>;\n  mode?: \"a\" | \"b\" | null;\n  any?: unknown;\n}",
            TypeStrings.Interface("Input", schema));
    }

    [Fact]
    public void Every_tool_in_the_catalog_has_valid_data()
    {
        var catalog = ToolCatalog.Load();
        Assert.Equal(["execute", "schema", "search"], catalog.Where(t => t.Root).Select(t => t.Name));
        Assert.All(catalog, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
        Assert.All(catalog.Where(t => !t.Root), t => Assert.True(t.Instructions.Length > 200, $"{t.Name} needs real instructions"));
    }

    private static List<string> Names(ToolOutcome outcome) =>
        outcome.Result!["results"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList();

    private static readonly ToolManifest Notes = ToolCatalog.Parse(JsonNode.Parse("""
        {"name":"notes","description":"Keep short notes","keywords":["memo","note"],"readOnly":["read"],
         "inputSchema":{"type":"object","required":["action"],"properties":{
           "action":{"type":"string","enum":["create","read","delete"],"description":"What to do"},
           "keys":{"type":"array","items":{"type":["string","number"]}},
           "data":{"anyOf":[{"type":"object","required":["title"],"properties":{"title":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}}},
                            {"type":"array","items":{"type":"object"}}]}}},
         "validateByAction":{
           "create":{"type":"object","properties":{"action":{},"data":{"type":"array","items":{"type":"object","properties":{"title":{"type":"string"}}}}},"required":["data"],"additionalProperties":false},
           "read":{"type":"object","properties":{"action":{},"keys":{"type":"array","items":{"type":["string","number"]}}},"additionalProperties":false},
           "delete":{"type":"object","properties":{"action":{},"keys":{"type":"array"}},"required":["keys"],"additionalProperties":false}}}
        """)!.AsObject(), "Write notes carefully.");

    private static readonly ToolManifest Weather = ToolCatalog.Parse(JsonNode.Parse("""
        {"name":"weather","description":"The forecast: temperature and rain","readOnly":true,
         "inputSchema":{"type":"object","properties":{"city":{"type":"string"}}},"validate":{"type":"object"}}
        """)!.AsObject(), "Ask for a city.");

    private static readonly ToolManifest AdminOnly = ToolCatalog.Parse(JsonNode.Parse("""
        {"name":"admin-tool","description":"Something dangerous","admin":true,"readOnly":false,
         "inputSchema":{"type":"object"},"validate":{"type":"object"}}
        """)!.AsObject(), "");

    private static readonly ToolManifest Prompt = ToolCatalog.Parse(JsonNode.Parse("""
        {"name":"system-prompt","description":"The system prompt","readOnly":true,"inputSchema":{"type":"object"},"validate":{"type":"object"}}
        """)!.AsObject(), "");

    private sealed class RecordingHandler(string name) : IToolHandler
    {
        public string Name => name;
        public JsonObject? Last { get; set; }
        public Exception? Throw { get; set; }

        public Task<JsonNode?> HandleAsync(ToolCall call)
        {
            if (Throw is { } e) throw e;
            Last = call.Input;
            return Task.FromResult<JsonNode?>(new JsonArray(new JsonObject { ["id"] = 7 }));
        }

        public string? Link(JsonObject input, JsonObject record) => $"{name}/{record["id"]}";
    }

    private sealed class Schema : IToolHandler
    {
        public string Name => "schema";
        public Task<JsonNode?> HandleAsync(ToolCall call) => Task.FromResult<JsonNode?>(new JsonObject());
    }

    private sealed class AdminPermissions : IPermissionSource
    {
        public ValueTask<CallerPermissions> ForAsync(CallerIdentity? caller, CancellationToken ct) => ValueTask.FromResult(CallerPermissions.Admin);
    }
}
