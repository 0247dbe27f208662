using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Services.Settings.Models;
using AiAssistant.Services.Settings.Secrets;
using Npgsql;
using NpgsqlTypes;
using StackExchange.Redis;
using F = AiAssistant.Services.Settings.Settings.AiSettingsFields;

namespace AiAssistant.Services.Settings.Settings;

public sealed class AiSettingsSchema : IDatabaseSchema
{
    public string Sql => """
        create table if not exists ai_settings (
            id int primary key check (id = 1),
            version bigint not null,
            "values" jsonb not null,
            updated_at timestamptz not null default now()
        );
        insert into ai_settings (id, version, "values") values (1, 1, '{}') on conflict (id) do nothing;
        create table if not exists ai_secrets (
            field text primary key,
            ciphertext text not null,
            key_id text not null,
            updated_at timestamptz not null default now()
        );
        create table if not exists ai_settings_activity (
            id bigserial primary key,
            version bigint not null,
            actor text not null,
            fields text[] not null,
            at timestamptz not null default now()
        );
        """;
}

/// <summary>
/// Reads and changes the AI settings. A change is one transaction: values, encrypted secrets, the new version, an
/// activity record (who, when, which fields — never a value) and the <see cref="AiSettingsChanged"/> event in the
/// outbox. Every read masks every secret.
/// </summary>
public sealed class AiSettingsStore(
    NpgsqlDataSource dataSource,
    ProviderKeyCipher cipher,
    ModelCatalog catalog,
    OutboxSignal outbox,
    IConnectionMultiplexer redis,
    ILogger<AiSettingsStore> logger)
{
    /// <summary>Every field as a client sees it: secrets are the mask when set, null when not.</summary>
    public async Task<JsonObject> ReadMaskedAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var (_, values) = await LoadValuesAsync(connection, null, forUpdate: false, ct);
        var secrets = await LoadSecretNamesAsync(connection, null, ct);
        string? Masked(string secretField) => secrets.Contains(secretField) ? F.Mask : null;

        var providers = Providers(values);
        var result = new JsonObject();
        foreach (var field in F.All)
        {
            result[field] = field switch
            {
                _ when F.TopLevelSecrets.Contains(field) => Masked(field),
                F.CompatibleProviders => new JsonArray(providers.Select(p =>
                {
                    var shown = (JsonObject)p.DeepClone();
                    shown["api_key"] = Masked(F.CompatibleKeyField(Id(p)));
                    return (JsonNode)shown;
                }).ToArray()),
                F.CompatibleApiKey => providers.Count > 0 ? Masked(F.CompatibleKeyField(Id(providers[0]))) : null,
                F.CompatibleName => providers.Count > 0 ? providers[0]["name"]?.DeepClone() : null,
                F.CompatibleBaseUrl => providers.Count > 0 ? providers[0]["base_url"]?.DeepClone() : null,
                F.CompatibleHeaders => providers.Count > 0 ? providers[0]["headers"]?.DeepClone() : null,
                F.CompatibleModels => providers.Count > 0 ? providers[0]["models"]?.DeepClone() : null,
                _ => Value(values, field),
            };
        }
        return result;
    }

    /// <summary>Applies a validated patch as <paramref name="actor"/>. Returns the new version, or the old one when nothing changed.</summary>
    public async Task<long> PatchAsync(IReadOnlyDictionary<string, JsonNode?> patch, string actor, CancellationToken ct)
    {
        if (patch.ContainsKey(F.CompatibleProviders) && F.LegacyCompatible.Any(patch.ContainsKey))
            throw DirectusException.InvalidPayload(
                $"Send either \"{F.CompatibleProviders}\" or the single-provider ai_openai_compatible_* fields, not both", F.CompatibleProviders);

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var (version, values) = await LoadValuesAsync(connection, tx, forUpdate: true, ct);
        var secrets = await LoadSecretNamesAsync(connection, tx, ct);
        var changed = new List<string>();

        // Writes a secret as the PATCH asks: the mask keeps it (the reference overwrites the key with the mask),
        // null or "" clears it, anything else replaces it. Returns whether anything changed.
        async Task<bool> ApplySecretAsync(string secretField, JsonNode? value)
        {
            var text = value?.GetValue<string>();
            if (text == F.Mask) return false;
            if (string.IsNullOrEmpty(text))
            {
                if (!secrets.Contains(secretField)) return false;
                await DeleteSecretAsync(connection, tx, secretField, ct);
                return true;
            }
            await WriteSecretAsync(connection, tx, secretField, text, ct);
            return true;
        }

        var providers = Providers(values);
        foreach (var (field, value) in patch)
        {
            if (F.TopLevelSecrets.Contains(field))
            {
                if (await ApplySecretAsync(field, value)) changed.Add(field);
            }
            else if (Array.IndexOf(F.LegacyCompatible, field) >= 0)
            {
                if (providers.Count == 0) providers.Add(new JsonObject { ["id"] = "default" });
                var first = providers[0];
                var property = field switch
                {
                    F.CompatibleName => "name",
                    F.CompatibleBaseUrl => "base_url",
                    F.CompatibleHeaders => "headers",
                    F.CompatibleModels => "models",
                    _ => "api_key",
                };
                if (property == "api_key")
                {
                    if (await ApplySecretAsync(F.CompatibleKeyField(Id(first)), value)) changed.Add(field);
                }
                else if (!JsonNode.DeepEquals(first[property], value))
                {
                    first[property] = value?.DeepClone();
                    changed.Add(field);
                }
            }
            else if (field == F.CompatibleProviders)
            {
                var incoming = F.ProviderPatches((JsonArray)value!);
                var keysChanged = false;
                foreach (var removed in providers.Select(Id).Except(incoming.Select(p => Id(p.Stored))))
                    keysChanged |= await ApplySecretAsync(F.CompatibleKeyField(removed), null);
                foreach (var p in incoming.Where(p => p.ApiKeyGiven))
                    keysChanged |= await ApplySecretAsync(F.CompatibleKeyField(Id(p.Stored)), p.ApiKey);
                var stored = incoming.Select(p => p.Stored).ToList();
                if (keysChanged || !JsonNode.DeepEquals(new JsonArray(providers.Select(p => p.DeepClone()).ToArray()),
                        new JsonArray(stored.Select(p => p.DeepClone()).ToArray())))
                    changed.Add(field);
                providers = stored;
            }
            else if (field == F.UsageLimits && value is JsonArray limits && await MissingRoleAsync(connection, tx, limits, ct) is { } missing)
                throw DirectusException.InvalidPayload($"\"{F.UsageLimits}\" names the role {missing}, which does not exist", F.UsageLimits);
            else if (!JsonNode.DeepEquals(Value(values, field), value))
            {
                values[field] = value?.DeepClone();
                changed.Add(field);
            }
        }
        if (changed.Count == 0)
        {
            await tx.RollbackAsync(ct);
            return version;
        }
        values[F.CompatibleProviders] = new JsonArray(providers.Select(p => (JsonNode)p.DeepClone()).ToArray());

        var next = version + 1;
        await using (var update = new NpgsqlCommand("update ai_settings set version = $1, \"values\" = $2, updated_at = now() where id = 1", connection, tx))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = next });
            update.Parameters.Add(new NpgsqlParameter { Value = values.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
            await update.ExecuteNonQueryAsync(ct);
        }
        await using (var activity = new NpgsqlCommand("insert into ai_settings_activity (version, actor, fields) values ($1, $2, $3)", connection, tx))
        {
            activity.Parameters.Add(new NpgsqlParameter { Value = next });
            activity.Parameters.Add(new NpgsqlParameter { Value = actor });
            activity.Parameters.Add(new NpgsqlParameter { Value = changed.ToArray() });
            await activity.ExecuteNonQueryAsync(ct);
        }
        await OutboxWriter.AddAsync(connection, tx, new AiSettingsChanged(next, changed, DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
        outbox.Notify();

        try
        {
            // Replicas that miss the event still see the new version here within their polling interval.
            await redis.GetDatabase().SetIfGreaterAsync(ResourceNames.SettingsVersionKey, next);
        }
        catch (Exception e) when (e.IsRedisFailure())
        {
            logger.LogWarning("Settings version {Version} not written to Redis ({ExceptionType})", next, e.GetType().Name);
        }
        logger.LogInformation("AI settings changed to version {Version} by {Actor}: {Fields}", next, actor, string.Join(", ", changed));
        return next;
    }

    /// <summary>The decrypted configuration for internal callers (gRPC GetAiConfig).</summary>
    public async Task<AiConfig> LoadConfigAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var (version, values) = await LoadValuesAsync(connection, null, forUpdate: false, ct);
        var secrets = await LoadSecretsAsync(connection, ct);
        var config = new AiConfig { Version = version, SystemPrompt = Value(values, F.SystemPrompt)?.GetValue<string>() ?? "" };
        if (Value(values, F.UsageLimits) is JsonArray limits)
            foreach (var l in limits)
                config.UsageLimits.Add(new UsageLimit
                {
                    Role = l!["role"]?.GetValue<string>() ?? "",
                    RequestsPerMinute = (int)(l["requests_per_minute"]?.GetValue<long>() ?? 0),
                    TokensPerDay = l["tokens_per_day"]?.GetValue<long>() ?? 0,
                });

        foreach (var (type, keyField, allowedField) in F.BuiltInProviders)
        {
            var provider = new ProviderConfig { Type = type, Id = type, Name = type, ApiKey = secrets.GetValueOrDefault(keyField, "") };
            if (Value(values, allowedField) is JsonArray allowed)
                foreach (var model in allowed) provider.Models.Add(catalog.Describe(type, model!.GetValue<string>()));
            config.Providers.Add(provider);
        }

        var providers = Providers(values);
        for (var i = 0; i < providers.Count; i++)
        {
            var p = providers[i];
            if (p["base_url"]?.GetValue<string>() is not { Length: > 0 } baseUrl) continue;
            var provider = new ProviderConfig
            {
                Type = "openai-compatible",
                Id = i == 0 ? "openai-compatible" : $"openai-compatible:{Id(p)}",
                Name = p["name"]?.GetValue<string>() is { Length: > 0 } name ? name : "openai-compatible",
                BaseUrl = baseUrl,
                ApiKey = secrets.GetValueOrDefault(F.CompatibleKeyField(Id(p)), ""),
            };
            if (p["headers"] is JsonArray headers)
                foreach (var h in headers)
                    provider.Headers.Add(new ProviderHeader { Name = h!["header"]!.GetValue<string>(), Value = h["value"]!.GetValue<string>() });
            if (p["models"] is JsonArray models)
                foreach (var m in models)
                    provider.Models.Add(new ProviderModel
                    {
                        Id = m!["id"]!.GetValue<string>(),
                        Name = m["name"]!.GetValue<string>(),
                        Context = m["context"]?.GetValue<int>() ?? F.DefaultContext,
                        Output = m["output"]?.GetValue<int>() ?? F.DefaultOutput,
                        Attachment = m["attachment"]?.GetValue<bool>() ?? false,
                        Reasoning = m["reasoning"]?.GetValue<bool>() ?? false,
                        ProviderOptionsJson = m["providerOptions"]?.ToJsonString() ?? "",
                    });
            config.Providers.Add(provider);
        }
        return config;
    }

    /// <summary>The first role of <paramref name="limits"/> that is not in <c>access_roles</c>, or null.</summary>
    private static async Task<Guid?> MissingRoleAsync(NpgsqlConnection connection, NpgsqlTransaction tx, JsonArray limits, CancellationToken ct)
    {
        var named = F.LimitRoles(limits).ToArray();
        if (named.Length == 0) return null;
        await using var cmd = new NpgsqlCommand("select id from access_roles where id = any($1)", connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = named });
        var found = new HashSet<Guid>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) found.Add(reader.GetGuid(0));
        return named.Where(r => !found.Contains(r)).Cast<Guid?>().FirstOrDefault();
    }

    /// <summary>The MCP settings for Tools (gRPC GetMcpConfig): no secret among them; a field never written is its default.</summary>
    public async Task<McpConfig> LoadMcpConfigAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var (version, values) = await LoadValuesAsync(connection, null, forUpdate: false, ct);
        bool Flag(string field) => Value(values, field)?.GetValue<bool>() ?? false;
        string Text(string field) => Value(values, field)?.GetValue<string>() ?? "";
        return new McpConfig
        {
            Version = version,
            Enabled = Flag(F.McpEnabled),
            AllowDeletes = Flag(F.McpAllowDeletes),
            PromptsCollection = Text(F.McpPromptsCollection),
            SystemPromptEnabled = Flag(F.McpSystemPromptEnabled),
            SystemPrompt = Text(F.McpSystemPrompt),
        };
    }

    /// <summary>What <c>/server/info</c> tells signed-in users: which provider types have credentials, whether MCP is on.</summary>
    public async Task<(IReadOnlyList<string> Providers, bool McpEnabled)> ServerInfoAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var (_, values) = await LoadValuesAsync(connection, null, forUpdate: false, ct);
        var secrets = await LoadSecretNamesAsync(connection, null, ct);
        var providers = F.BuiltInProviders.Where(p => secrets.Contains(p.KeyField)).Select(p => p.Type).ToList();
        // An OpenAI-compatible provider counts once its base URL is set (Ollama needs no key).
        if (Providers(values).Any(p => p["base_url"]?.GetValue<string>() is { Length: > 0 })) providers.Add("openai-compatible");
        return (providers, Value(values, F.McpEnabled)?.GetValue<bool>() ?? false);
    }

    /// <summary>A stored value, or the fresh-install default for a field never written.</summary>
    private JsonNode? Value(JsonObject values, string field) =>
        values.TryGetPropertyValue(field, out var v) ? v?.DeepClone() : F.Default(field, catalog);

    private static List<JsonObject> Providers(JsonObject values) =>
        values[F.CompatibleProviders] is JsonArray list ? list.Select(p => (JsonObject)p!.DeepClone()).ToList() : [];

    private static string Id(JsonObject provider) => provider["id"]!.GetValue<string>();

    private async Task WriteSecretAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string field, string plaintext, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            insert into ai_secrets (field, ciphertext, key_id) values ($1, $2, $3)
            on conflict (field) do update set ciphertext = excluded.ciphertext, key_id = excluded.key_id, updated_at = now()
            """, connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = field });
        cmd.Parameters.Add(new NpgsqlParameter { Value = cipher.Encrypt(field, plaintext) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = cipher.CurrentKeyId });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task DeleteSecretAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string field, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("delete from ai_secrets where field = $1", connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = field });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<(long Version, JsonObject Values)> LoadValuesAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, bool forUpdate, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "select version, \"values\"::text from ai_settings where id = 1" + (forUpdate ? " for update" : ""), connection, tx);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) throw new InvalidOperationException("The ai_settings row is missing.");
        return (reader.GetInt64(0), JsonNode.Parse(reader.GetString(1)) as JsonObject ?? new JsonObject());
    }

    private static async Task<HashSet<string>> LoadSecretNamesAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select field from ai_secrets", connection, tx);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var names = new HashSet<string>();
        while (await reader.ReadAsync(ct)) names.Add(reader.GetString(0));
        return names;
    }

    private async Task<Dictionary<string, string>> LoadSecretsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select field, ciphertext from ai_secrets", connection);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var secrets = new Dictionary<string, string>();
        while (await reader.ReadAsync(ct)) secrets[reader.GetString(0)] = cipher.Decrypt(reader.GetString(0), reader.GetString(1));
        return secrets;
    }
}
