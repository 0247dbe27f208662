using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.Services.Settings.Models;
using AiAssistant.Services.Settings.Secrets;
using AiAssistant.Services.Settings.Settings;
using AiAssistant.Tests.Infrastructure;
using AiAssistant.Tests.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using StackExchange.Redis;
using Xunit;

namespace AiAssistant.Tests.Settings;

/// <summary>The settings store against a real PostgreSQL and Redis, each test on a fresh database.</summary>
[Collection(ServersCollection.Name)]
public sealed class AiSettingsStoreTests(ServersFixture servers) : IAsyncLifetime
{
    private readonly string _database = "settings_" + Guid.NewGuid().ToString("N")[..8];
    private readonly byte[] _key1 = RandomNumberGenerator.GetBytes(32);
    private NpgsqlDataSource _data = null!;
    private ConnectionMultiplexer _redis = null!;
    private AiSettingsStore _store = null!;
    private static readonly ModelCatalog Catalog = ModelCatalog.LoadDefault();

    public async Task InitializeAsync()
    {
        await servers.Postgres.EnsureDatabasesAsync([_database]);
        _data = new NpgsqlDataSourceBuilder(servers.ConnectionString(_database)).Build();
        foreach (var sql in new[] { new OutboxSchema().Sql, new AiSettingsSchema().Sql })
        {
            await using var cmd = _data.CreateCommand(sql);
            await cmd.ExecuteNonQueryAsync();
        }
        _redis = await TestRedis.ConnectAsync(servers.RedisConnectionString);
        _store = Store(new ProviderKeyCipher("k1", _key1));
    }

    private AiSettingsStore Store(ProviderKeyCipher cipher) =>
        new(_data, cipher, Catalog, new OutboxSignal(), _redis, NullLogger<AiSettingsStore>.Instance);

    public async Task DisposeAsync()
    {
        await _data.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private Task<long> Patch(string json) => _store.PatchAsync(
        JsonNode.Parse(json)!.AsObject().ToDictionary(kv => kv.Key, kv => AiSettingsFields.Validate(kv.Key, kv.Value)), "tester", CancellationToken.None);

    private async Task<T> Scalar<T>(string sql)
    {
        await using var cmd = _data.CreateCommand(sql);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_fresh_install_has_the_reference_defaults()
    {
        var read = await _store.ReadMaskedAsync(CancellationToken.None);
        Assert.Equal(["gpt-5.4-nano", "gpt-5.4-mini", "gpt-5.4"], read["ai_openai_allowed_models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal(["claude-haiku-4-5", "claude-sonnet-4-6"], read["ai_anthropic_allowed_models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal(4, read["ai_google_allowed_models"]!.AsArray().Count);
        Assert.False(read["mcp_enabled"]!.GetValue<bool>());
        Assert.True(read["mcp_system_prompt_enabled"]!.GetValue<bool>());
        Assert.Null(read["ai_openai_api_key"]);
        Assert.Null(read["ai_openai_compatible_base_url"]);
        Assert.Empty(read["ai_openai_compatible_providers"]!.AsArray());
    }

    [Fact]
    public async Task Every_field_round_trips_and_secrets_read_as_the_mask()
    {
        await Patch("""
            {"ai_openai_api_key":"sk-o","ai_anthropic_api_key":"sk-a","ai_google_api_key":"sk-g",
             "ai_openai_allowed_models":["gpt-5.4","my-custom-model"],"ai_anthropic_allowed_models":[],"ai_google_allowed_models":null,
             "ai_openai_compatible_name":"Ollama","ai_openai_compatible_base_url":"http://127.0.0.1:11434/v1/",
             "ai_openai_compatible_api_key":"ollama","ai_openai_compatible_headers":[{"header":"X-Org","value":"acme"}],
             "ai_openai_compatible_models":[{"id":"llama3","name":"Llama 3"}],
             "ai_system_prompt":"Be brief.","mcp_enabled":true,"mcp_allow_deletes":true,"mcp_prompts_collection":"ai_prompts",
             "mcp_system_prompt_enabled":false,"mcp_system_prompt":"MCP prompt"}
            """);
        var read = await _store.ReadMaskedAsync(CancellationToken.None);
        foreach (var secret in new[] { "ai_openai_api_key", "ai_anthropic_api_key", "ai_google_api_key", "ai_openai_compatible_api_key" })
            Assert.Equal("**********", read[secret]!.GetValue<string>());
        Assert.Equal(["gpt-5.4", "my-custom-model"], read["ai_openai_allowed_models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Empty(read["ai_anthropic_allowed_models"]!.AsArray());
        Assert.Null(read["ai_google_allowed_models"]);
        Assert.Equal("Ollama", read["ai_openai_compatible_name"]!.GetValue<string>());
        Assert.Equal("http://127.0.0.1:11434/v1", read["ai_openai_compatible_base_url"]!.GetValue<string>());
        Assert.Equal("acme", read["ai_openai_compatible_headers"]![0]!["value"]!.GetValue<string>());
        Assert.Equal(128000, read["ai_openai_compatible_models"]![0]!["context"]!.GetValue<int>());
        Assert.Equal("Be brief.", read["ai_system_prompt"]!.GetValue<string>());
        Assert.True(read["mcp_enabled"]!.GetValue<bool>());
        Assert.True(read["mcp_allow_deletes"]!.GetValue<bool>());
        Assert.Equal("ai_prompts", read["mcp_prompts_collection"]!.GetValue<string>());
        Assert.False(read["mcp_system_prompt_enabled"]!.GetValue<bool>());
        Assert.Equal("MCP prompt", read["mcp_system_prompt"]!.GetValue<string>());
        Assert.DoesNotContain("sk-o", read.ToJsonString());

        var config = await _store.LoadConfigAsync(CancellationToken.None);
        var openai = config.Providers.Single(p => p.Id == "openai");
        Assert.Equal("sk-o", openai.ApiKey);
        Assert.Equal(1050000, openai.Models.Single(m => m.Id == "gpt-5.4").Context);
        Assert.Equal(128000, openai.Models.Single(m => m.Id == "my-custom-model").Context);
        Assert.Empty(config.Providers.Single(p => p.Id == "anthropic").Models);
        var compat = config.Providers.Single(p => p.Id == "openai-compatible");
        Assert.Equal(("ollama", "Ollama", "http://127.0.0.1:11434/v1"), (compat.ApiKey, compat.Name, compat.BaseUrl));
        Assert.Equal("Be brief.", config.SystemPrompt);
    }

    [Fact]
    public async Task The_mask_keeps_the_key_null_clears_it_and_a_new_value_replaces_it()
    {
        var v1 = await Patch("""{"ai_openai_api_key":"sk-first"}""");
        Assert.Equal(v1, await Patch("""{"ai_openai_api_key":"**********"}"""));
        Assert.Equal("sk-first", (await _store.LoadConfigAsync(default)).Providers.Single(p => p.Id == "openai").ApiKey);

        await Patch("""{"ai_openai_api_key":"sk-second"}""");
        Assert.Equal("sk-second", (await _store.LoadConfigAsync(default)).Providers.Single(p => p.Id == "openai").ApiKey);

        await Patch("""{"ai_openai_api_key":null}""");
        Assert.Equal("", (await _store.LoadConfigAsync(default)).Providers.Single(p => p.Id == "openai").ApiKey);
        Assert.Null((await _store.ReadMaskedAsync(default))["ai_openai_api_key"]);
    }

    [Fact]
    public async Task Several_compatible_providers_side_by_side_each_with_its_own_key()
    {
        await Patch("""
            {"ai_openai_compatible_providers":[
               {"name":"Ollama","base_url":"http://127.0.0.1:11434/v1","api_key":"ollama","models":[{"id":"llama3","name":"Llama 3"}]},
               {"id":"azure","name":"Azure OpenAI","base_url":"https://r.openai.azure.com/openai/v1","api_key":"az-key",
                "headers":[{"header":"api-version","value":"2025-01-01"}]}]}
            """);
        var config = await _store.LoadConfigAsync(default);
        var first = config.Providers.Single(p => p.Id == "openai-compatible");
        var azure = config.Providers.Single(p => p.Id == "openai-compatible:azure");
        Assert.Equal(("ollama", "Ollama"), (first.ApiKey, first.Name));
        Assert.Equal("az-key", azure.ApiKey);
        Assert.Equal("2025-01-01", azure.Headers.Single().Value);

        // The single-provider fields address the first one; the list shows every key masked.
        var read = await _store.ReadMaskedAsync(default);
        Assert.Equal("http://127.0.0.1:11434/v1", read["ai_openai_compatible_base_url"]!.GetValue<string>());
        Assert.All(read["ai_openai_compatible_providers"]!.AsArray(), p => Assert.Equal("**********", p!["api_key"]!.GetValue<string>()));

        // Sending the list back as read keeps the keys; dropping a provider drops its key.
        var back = read["ai_openai_compatible_providers"]!.AsArray();
        back.RemoveAt(0);
        await Patch(new JsonObject { ["ai_openai_compatible_providers"] = back.DeepClone() }.ToJsonString());
        config = await _store.LoadConfigAsync(default);
        Assert.Equal("az-key", config.Providers.Single(p => p.Id == "openai-compatible").ApiKey);
        Assert.Equal(1, await Scalar<long>("select count(*) from ai_secrets where field like 'ai_openai_compatible_providers.%'"));
    }

    [Fact]
    public async Task A_change_is_one_transaction_with_an_activity_record_and_an_event_that_name_fields_only()
    {
        var before = await Scalar<long>("select version from ai_settings");
        var version = await Patch("""{"ai_google_api_key":"sk-google-secret","mcp_enabled":true}""");
        Assert.Equal(before + 1, version);
        Assert.Equal("tester", await Scalar<string>($"select actor from ai_settings_activity where version = {version}"));
        Assert.Equal(["ai_google_api_key", "mcp_enabled"], await Scalar<string[]>($"select fields from ai_settings_activity where version = {version}"));
        var payload = await Scalar<string>("select payload::text from outbox_messages order by created_at desc limit 1");
        Assert.Contains("ai_google_api_key", payload);
        Assert.Contains($"{version}", payload);

        // Nothing readable in any table: the rows hold ciphertext only.
        foreach (var table in new[] { "ai_settings", "ai_secrets", "ai_settings_activity", "outbox_messages" })
            Assert.DoesNotContain("sk-google-secret", await Scalar<string>($"select coalesce(string_agg(t::text, ' '), '') from {table} t"));
        // Redis holds the newest version any test wrote (they share it): at least this one.
        Assert.True((long)await _redis.GetDatabase().StringGetAsync(AiAssistant.Contracts.ResourceNames.SettingsVersionKey) >= version);
    }

    [Fact]
    public async Task Bad_input_stores_nothing()
    {
        var before = await Scalar<long>("select version from ai_settings");
        await Assert.ThrowsAsync<DirectusException>(() => Patch("""{"ai_openai_compatible_name":"x","ai_openai_compatible_providers":[]}"""));
        Assert.Equal(before, await Scalar<long>("select version from ai_settings"));
        Assert.Equal(0, await Scalar<long>("select count(*) from ai_settings_activity"));
    }

    [Fact]
    public async Task Rotate_keys_moves_every_secret_to_the_new_key_and_a_second_run_changes_nothing()
    {
        await Patch("""{"ai_openai_api_key":"sk-1","ai_anthropic_api_key":"sk-2","ai_openai_compatible_base_url":"http://h/v1","ai_openai_compatible_api_key":"sk-3"}""");
        var rotated = new ProviderKeyCipher("k2", RandomNumberGenerator.GetBytes(32), new Dictionary<string, byte[]> { ["k1"] = _key1 });

        Assert.Equal(3, await KeyRotation.RunAsync(_data, rotated, TextWriter.Null, default));
        Assert.Equal(0, await Scalar<long>("select count(*) from ai_secrets where key_id <> 'k2' or ciphertext not like 'v1:k2:%'"));
        var config = await Store(rotated).LoadConfigAsync(default);
        Assert.Equal(["sk-1", "sk-2", "sk-3"], config.Providers.Where(p => p.ApiKey.Length > 0).Select(p => p.ApiKey).Order());

        var snapshot = await Scalar<string>("select string_agg(ciphertext, ',' order by field) from ai_secrets");
        Assert.Equal(0, await KeyRotation.RunAsync(_data, rotated, TextWriter.Null, default));
        Assert.Equal(snapshot, await Scalar<string>("select string_agg(ciphertext, ',' order by field) from ai_secrets"));
    }

    [Fact]
    public async Task A_ciphertext_copied_into_another_field_does_not_decrypt()
    {
        await Patch("""{"ai_openai_api_key":"sk-openai"}""");
        await using (var cmd = _data.CreateCommand(
            "insert into ai_secrets (field, ciphertext, key_id) select 'ai_google_api_key', ciphertext, key_id from ai_secrets where field = 'ai_openai_api_key'"))
            await cmd.ExecuteNonQueryAsync();
        await Assert.ThrowsAnyAsync<CryptographicException>(() => _store.LoadConfigAsync(default));
    }
}
