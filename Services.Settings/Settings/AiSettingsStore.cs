using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.Contracts;
using AiAssistant.Contracts.Settings;
using AiAssistant.ServiceDefaults.Data;
using AiAssistant.ServiceDefaults.Outbox;
using AiAssistant.ServiceDefaults.Redis;
using AiAssistant.Services.Settings.Secrets;
using Npgsql;
using NpgsqlTypes;

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
        """;
}

/// <summary>
/// Reads and changes the AI settings. A change is one transaction: values, encrypted secrets, the new version and the
/// <see cref="AiSettingsChanged"/> event in the outbox. Reads mask every secret.
/// </summary>
public sealed class AiSettingsStore(
    NpgsqlDataSource dataSource,
    ProviderKeyCipher cipher,
    OutboxSignal outbox,
    IRedis redis,
    ILogger<AiSettingsStore> logger)
{
    /// <summary>Every field as a client sees it: secrets are the mask when set, null when not.</summary>
    public async Task<JsonObject> ReadMaskedAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var (_, values) = await LoadValuesAsync(connection, null, forUpdate: false, ct);
        var secrets = await LoadSecretNamesAsync(connection, ct);
        var result = new JsonObject();
        foreach (var field in AiSettingsFields.All)
            result[field] = AiSettingsFields.IsSecret(field)
                ? secrets.Contains(field) ? AiSettingsFields.Mask : null
                : values[field]?.DeepClone();
        return result;
    }

    /// <summary>Applies a validated patch. Returns the new version, or the old one when nothing changed.</summary>
    public async Task<long> PatchAsync(IReadOnlyDictionary<string, JsonNode?> patch, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var (version, values) = await LoadValuesAsync(connection, tx, forUpdate: true, ct);
        var changed = new List<string>();
        foreach (var (field, value) in patch)
        {
            if (AiSettingsFields.IsSecret(field))
            {
                // The mask sent back means "keep what is stored" (the reference overwrites the key with it).
                if (value?.GetValue<string>() == AiSettingsFields.Mask) continue;
                await WriteSecretAsync(connection, tx, field, value?.GetValue<string>() is { Length: > 0 } s ? s : null, ct);
                changed.Add(field);
            }
            else if (!JsonNode.DeepEquals(values[field], value))
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

        var next = version + 1;
        await using (var update = new NpgsqlCommand("update ai_settings set version = $1, \"values\" = $2, updated_at = now() where id = 1", connection, tx))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = next });
            update.Parameters.Add(new NpgsqlParameter { Value = values.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
            await update.ExecuteNonQueryAsync(ct);
        }
        await OutboxWriter.AddAsync(connection, tx, new AiSettingsChanged(next, changed, DateTimeOffset.UtcNow), ct);
        await tx.CommitAsync(ct);
        outbox.Notify();

        try
        {
            // Replicas that miss the event still see the new version here within their polling interval.
            await redis.SetIfGreaterAsync(ResourceNames.SettingsVersionKey, next, ct);
        }
        catch (RedisException e)
        {
            logger.LogWarning("Settings version {Version} not written to Redis: {Reason}", next, e.Message);
        }
        logger.LogInformation("AI settings changed to version {Version}: {Fields}", next, string.Join(", ", changed));
        return next;
    }

    /// <summary>The decrypted configuration for internal callers (gRPC GetAiConfig).</summary>
    public async Task<AiConfig> LoadConfigAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var (version, values) = await LoadValuesAsync(connection, null, forUpdate: false, ct);
        var secrets = await LoadSecretsAsync(connection, ct);
        var config = new AiConfig { Version = version, SystemPrompt = Str(values, AiSettingsFields.SystemPrompt) };

        var baseUrl = Str(values, AiSettingsFields.CompatibleBaseUrl);
        secrets.TryGetValue(AiSettingsFields.CompatibleApiKey, out var apiKey);
        if (baseUrl.Length > 0 || apiKey is not null)
        {
            var provider = new OpenAiCompatibleProvider
            {
                Id = "openai-compatible",
                Name = Str(values, AiSettingsFields.CompatibleName),
                BaseUrl = baseUrl,
                ApiKey = apiKey ?? "",
            };
            if (values[AiSettingsFields.CompatibleHeaders] is JsonArray headers)
                foreach (var h in headers)
                    provider.Headers.Add(new ProviderHeader { Name = h!["header"]!.GetValue<string>(), Value = h["value"]!.GetValue<string>() });
            if (values[AiSettingsFields.CompatibleModels] is JsonArray models)
                foreach (var m in models)
                    provider.Models.Add(new ProviderModel
                    {
                        Id = m!["id"]!.GetValue<string>(),
                        Name = m["name"]!.GetValue<string>(),
                        Context = m["context"]?.GetValue<int>() ?? AiSettingsFields.DefaultContext,
                        Output = m["output"]?.GetValue<int>() ?? AiSettingsFields.DefaultOutput,
                        Attachment = m["attachment"]?.GetValue<bool>() ?? false,
                        Reasoning = m["reasoning"]?.GetValue<bool>() ?? false,
                        ProviderOptionsJson = m["providerOptions"]?.ToJsonString() ?? "",
                    });
            config.OpenaiCompatible.Add(provider);
        }
        return config;
    }

    private async Task WriteSecretAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string field, string? plaintext, CancellationToken ct)
    {
        await using var cmd = plaintext is null
            ? new NpgsqlCommand("delete from ai_secrets where field = $1", connection, tx)
            : new NpgsqlCommand("""
                insert into ai_secrets (field, ciphertext, key_id) values ($1, $2, $3)
                on conflict (field) do update set ciphertext = excluded.ciphertext, key_id = excluded.key_id, updated_at = now()
                """, connection, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = field });
        if (plaintext is not null)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = cipher.Encrypt(field, plaintext) });
            cmd.Parameters.Add(new NpgsqlParameter { Value = cipher.CurrentKeyId });
        }
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

    private static async Task<HashSet<string>> LoadSecretNamesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("select field from ai_secrets", connection);
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

    private static string Str(JsonObject values, string field) =>
        values[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "";
}
