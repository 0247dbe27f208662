using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.Contracts.Settings;
using AiAssistant.Tests.Access;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using Xunit;

namespace AiAssistant.Tests.EndToEnd;

/// <summary>
/// Through the gateway: the tool-call audit read by admins with the query language, the prompts collection generated
/// and checked when Settings stores its name (Settings asks Tools), and the MCP settings Tools reads over gRPC.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed class ToolCallsAndPromptsTests(EndToEndFixture e2e)
{
    private async Task InsertToolCallsAsync(string tool, params (string Outcome, double Ms, string? Collection)[] rows)
    {
        await using var connection = new NpgsqlConnection(e2e.Postgres.ConnectionStringFor("content"));
        await connection.OpenAsync();
        foreach (var (outcome, ms, collection) in rows)
        {
            await using var cmd = new NpgsqlCommand("""
                insert into ai_tool_calls (timestamp, "user", surface, tool, action, collection, keys, outcome, error_code, duration_ms)
                values (now(), null, 'mcp', $1, 'read', $2, '["1","2"]', $3, null, $4)
                """, connection);
            cmd.Parameters.Add(new NpgsqlParameter { Value = tool });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)collection ?? DBNull.Value });
            cmd.Parameters.Add(new NpgsqlParameter { Value = outcome });
            cmd.Parameters.Add(new NpgsqlParameter { Value = ms });
            await cmd.ExecuteNonQueryAsync();
        }
    }

    private static async Task<(int Status, JsonNode Body)> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!);
    }

    private static string Code(JsonNode body) => body["errors"]![0]!["extensions"]!["code"]!.GetValue<string>();

    [Fact]
    public async Task Admins_read_tool_calls_with_directus_query_parameters_and_nobody_else_reads_them()
    {
        var tool = AccessTestUsers.Unique("tool");
        await InsertToolCallsAsync(tool, ("ok", 3.5, "articles"), ("error", 12, "articles"), ("denied", 7, null));
        var filter = $"filter[tool][_eq]={tool}";

        // reached through the gateway's /ai/tool-calls route (Tools), not the /ai route (Chat has no such path)
        var (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, $"/ai/tool-calls?{filter}&sort=-duration_ms&fields=tool,outcome,duration_ms,keys&meta=filter_count,total_count");
        Assert.True(status == 200, body.ToJsonString());
        var rows = body["data"]!.AsArray();
        Assert.Equal(["error", "denied", "ok"], rows.Select(r => r!["outcome"]!.GetValue<string>()));
        Assert.Equal(12d, rows[0]!["duration_ms"]!.GetValue<double>());
        Assert.Equal(["1", "2"], rows[0]!["keys"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.Equal(["duration_ms", "keys", "outcome", "tool"], rows[0]!.AsObject().Select(p => p.Key).Order());
        Assert.Equal(3, body["meta"]!["filter_count"]!.GetValue<long>());
        Assert.True(body["meta"]!["total_count"]!.GetValue<long>() >= 3);

        (_, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, $"/ai/tool-calls?{filter}&filter[collection][_null]=true&fields=outcome");
        Assert.Equal("denied", Assert.Single(body["data"]!.AsArray())!["outcome"]!.GetValue<string>());
        (_, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, $"/ai/tool-calls?{filter}&sort=duration_ms&limit=1&page=2&fields=id,outcome");
        var second = Assert.Single(body["data"]!.AsArray())!;
        Assert.Equal("denied", second["outcome"]!.GetValue<string>());
        (_, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, $"/ai/tool-calls?{filter}&aggregate[count]=*&aggregate[max]=duration_ms");
        var aggregate = Assert.Single(body["data"]!.AsArray())!;
        Assert.Equal(3, aggregate["count"]!.GetValue<long>());
        Assert.Equal(12d, aggregate["max"]!["duration_ms"]!.GetValue<double>());
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, $"/ai/tool-calls/{second["id"]!.GetValue<string>()}?fields=outcome");
        Assert.Equal((200, "denied"), (status, body["data"]!["outcome"]!.GetValue<string>()));

        // bad input is a 4xx in the envelope
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, "/ai/tool-calls?filter[nope][_eq]=1");
        Assert.Equal((403, "FORBIDDEN"), (status, Code(body)));
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, "/ai/tool-calls?limit=many");
        Assert.Equal(400, status);
        using (var delete = await e2e.Gateway.DeleteAsync("/ai/tool-calls"))
        {
            // Tools' answer (Chat's carry X-Served-By): there is nothing to delete there
            Assert.False(delete.Headers.Contains("X-Served-By"));
            Assert.True((int)delete.StatusCode is 404 or 405, $"{(int)delete.StatusCode}");
            Assert.Equal("ROUTE_NOT_FOUND", await EndToEndFixture.ErrorCodeAsync(delete));
        }

        // read-only and admin-only: not under /items, not to other users, not writable through the schema API
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, "/items/ai_tool_calls");
        Assert.Equal((403, "FORBIDDEN"), (status, Code(body)));
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Post, "/items/ai_tool_calls", new { tool = "forged" });
        Assert.Equal((403, "FORBIDDEN"), (status, Code(body)));
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Delete, "/collections/ai_tool_calls");
        Assert.Equal((403, "FORBIDDEN"), (status, Code(body)));
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, "/collections/ai_tool_calls");
        Assert.True(body["data"]!["meta"]!["system"]!.GetValue<bool>());
        Assert.Equal(0, await e2e.ContentScalarAsync("select count(*) from ai_tool_calls where tool = 'forged'"));

        using var admin = e2e.Client(e2e.GatewayUrl);
        var (appUser, _, appClient) = await AccessTestUsers.GrantableUserAsync(admin, e2e.GatewayUrl, app: true);
        using (appClient)
        using (var anonymous = AccessTestUsers.Client(e2e.GatewayUrl, null))
            foreach (var client in new[] { appClient, anonymous })
            {
                (status, body) = await SendAsync(client, HttpMethod.Get, $"/ai/tool-calls?{filter}");
                Assert.Equal((403, "FORBIDDEN"), (status, Code(body)));
                Assert.DoesNotContain(tool, body.ToJsonString());
            }
        Assert.NotNull(appUser);
    }

    [Fact]
    public async Task The_prompts_collection_is_generated_once_and_settings_store_only_a_collection_that_fits()
    {
        var name = AccessTestUsers.Unique("prompts_");
        var (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Post, "/ai/prompts-collection", new { collection = name });
        Assert.True(status == 200, body.ToJsonString());
        Assert.Equal(name, body["data"]!["collection"]!.GetValue<string>());
        Assert.Equal("magic_button", body["data"]!["meta"]!["icon"]!.GetValue<string>());
        (_, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, $"/fields/{name}");
        Assert.Equal(["date_created", "date_updated", "description", "id", "messages", "name", "sort", "status", "system_prompt", "user_created", "user_updated"],
            body["data"]!.AsArray().Select(f => f!["field"]!.GetValue<string>()).Order());

        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Post, "/ai/prompts-collection", new { collection = name });
        Assert.Equal((400, "INVALID_PAYLOAD"), (status, Code(body)));
        Assert.Equal($"Invalid payload. Collection \"{name}\" already exists.", body["errors"]![0]!["message"]!.GetValue<string>());
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Post, "/ai/prompts-collection", new { collection = "Not A Name" });
        Assert.Equal((400, "INVALID_PAYLOAD"), (status, Code(body)));
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Post, "/ai/prompts-collection", new { collection = 5 });
        Assert.Equal((400, "INVALID_PAYLOAD"), (status, Code(body)));

        // a prompt written through the items API gets the collection's defaults and stamps
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Post, $"/items/{name}",
            new { name = "greet", messages = new[] { new { role = "user", text = "Hello {{name}}" } } });
        Assert.True(status == 200, body.ToJsonString());
        Assert.Equal("draft", body["data"]!["status"]!.GetValue<string>());
        Assert.NotNull(body["data"]!["user_created"]);
        Assert.NotNull(body["data"]!["date_created"]);

        await e2e.PatchSettingsAsync(new { mcp_prompts_collection = (string?)null, mcp_allow_deletes = false });
        var unknown = AccessTestUsers.Unique("nope_");
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Patch, "/settings", new { mcp_prompts_collection = unknown, mcp_allow_deletes = true });
        Assert.Equal((400, "INVALID_PAYLOAD"), (status, Code(body)));
        Assert.Equal("mcp_prompts_collection", body["errors"]![0]!["extensions"]!["field"]!.GetValue<string>());
        Assert.Equal($"Invalid payload. Collection \"{unknown}\" does not exist.", body["errors"]![0]!["message"]!.GetValue<string>());

        var half = AccessTestUsers.Unique("half_");
        await e2e.PostAsync("/collections", new
        {
            collection = half,
            schema = new { },
            fields = new object[] { new { field = "name", type = "string" }, new { field = "description", type = "text" } },
        });
        (status, body) = await SendAsync(e2e.Gateway, HttpMethod.Patch, "/settings", new { mcp_prompts_collection = half });
        Assert.Equal((400, "INVALID_PAYLOAD"), (status, Code(body)));
        Assert.Equal($"Invalid payload. Collection \"{half}\" is missing the prompt fields system_prompt (text), messages (json).",
            body["errors"]![0]!["message"]!.GetValue<string>());

        // nothing of a refused PATCH was stored
        (_, body) = await SendAsync(e2e.Gateway, HttpMethod.Get, "/settings?fields=mcp_prompts_collection,mcp_allow_deletes");
        Assert.Null(body["data"]!["mcp_prompts_collection"]);
        Assert.False(body["data"]!["mcp_allow_deletes"]!.GetValue<bool>());

        var stored = await e2e.PatchSettingsAsync(new { mcp_prompts_collection = name });
        Assert.Equal(name, stored["mcp_prompts_collection"]!.GetValue<string>());
        var config = await McpConfigAsync();
        Assert.Equal(name, config.PromptsCollection);
        await e2e.PatchSettingsAsync(new { mcp_prompts_collection = (string?)null });

        using var admin = e2e.Client(e2e.GatewayUrl);
        var (_, _, appClient) = await AccessTestUsers.GrantableUserAsync(admin, e2e.GatewayUrl, app: true);
        using (appClient)
        {
            (status, body) = await SendAsync(appClient, HttpMethod.Post, "/ai/prompts-collection", new { collection = AccessTestUsers.Unique("p_") });
            Assert.Equal((403, "FORBIDDEN"), (status, Code(body)));
        }
    }

    [Fact]
    public async Task GetMcpConfig_answers_the_mcp_settings_to_the_service_credential_only()
    {
        await e2e.PatchSettingsAsync(new { mcp_enabled = true, mcp_allow_deletes = true, mcp_system_prompt_enabled = false, mcp_system_prompt = "Be brief." });
        try
        {
            var config = await McpConfigAsync();
            Assert.Equal((true, true, false, "Be brief."), (config.Enabled, config.AllowDeletes, config.SystemPromptEnabled, config.SystemPrompt));
            Assert.True(config.Version > 1);

            using var channel = GrpcChannel.ForAddress(e2e.SettingsGrpcUrl);
            var refused = await Assert.ThrowsAsync<RpcException>(() => new AiSettings.AiSettingsClient(channel)
                .GetMcpConfigAsync(new GetMcpConfigRequest(), new Metadata { { "authorization", $"Bearer {e2e.AdminToken}" } }, DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        }
        finally
        {
            await e2e.PatchSettingsAsync(new { mcp_enabled = false, mcp_allow_deletes = false, mcp_system_prompt_enabled = true, mcp_system_prompt = (string?)null });
        }
        var reset = await McpConfigAsync();
        Assert.Equal((false, false, true, ""), (reset.Enabled, reset.AllowDeletes, reset.SystemPromptEnabled, reset.SystemPrompt));
    }

    [Fact]
    public async Task With_Tools_out_of_reach_a_prompts_collection_is_503_naming_Tools_and_nothing_is_written()
    {
        await e2e.PatchSettingsAsync(new { mcp_allow_deletes = false });
        await e2e.App.StopAsync(ResourceNames.Tools);
        try
        {
            using var settings = e2e.Client(e2e.SettingsUrl);
            var (status, body) = await SendAsync(settings, HttpMethod.Patch, "/settings", new { mcp_prompts_collection = "ai_prompts", mcp_allow_deletes = true });
            Assert.Equal((503, "SERVICE_UNAVAILABLE"), (status, Code(body)));
            Assert.Equal("tools", body["errors"]![0]!["extensions"]!["service"]!.GetValue<string>());
            // the rest of a PATCH still works without Tools
            (status, _) = await SendAsync(settings, HttpMethod.Patch, "/settings", new { mcp_system_prompt = "still works" });
            Assert.Equal(200, status);
            (_, body) = await SendAsync(settings, HttpMethod.Get, "/settings?fields=mcp_prompts_collection,mcp_allow_deletes");
            Assert.Null(body["data"]!["mcp_prompts_collection"]);
            Assert.False(body["data"]!["mcp_allow_deletes"]!.GetValue<bool>());
        }
        finally
        {
            await e2e.App.StartAsync(ResourceNames.Tools);
            await e2e.PatchSettingsAsync(new { mcp_system_prompt = (string?)null });
        }
    }

    private async Task<McpConfig> McpConfigAsync()
    {
        using var channel = GrpcChannel.ForAddress(e2e.SettingsGrpcUrl);
        return await new AiSettings.AiSettingsClient(channel).GetMcpConfigAsync(new GetMcpConfigRequest(),
            new Metadata { { "authorization", $"Bearer {e2e.InternalToken}" } }, DateTime.UtcNow.AddSeconds(30));
    }
}
