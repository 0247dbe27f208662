using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Data;
using Npgsql;

namespace AiAssistant.Services.Tools.ToolRegistry;

/// <summary>An approval request the server issued, or the user's answer carrying it back.</summary>
public sealed record ApprovalTicket(string Id, string Signature);

/// <summary>
/// Approvals enforced by the server (the reference leaves them to the browser). An approval id is
/// <c>apr_&lt;issued unix seconds&gt;_&lt;random&gt;</c>; its signature is HMAC-SHA256 — in the AI SDK v6 layout
/// (<c>approvalId \n toolCallId \n toolName \n sha256(canonical JSON of the input)</c>) plus the user's id — under a
/// key derived from the service credential, so every Tools replica verifies what any replica issued. An approval is
/// honoured once (<c>tool_approvals_used</c>, a row per used id), within <see cref="Lifetime"/>, for exactly the user,
/// tool call, tool and input it was issued for.
/// </summary>
public sealed class ToolApprovals(IConfiguration configuration, NpgsqlDataSource dataSource, TimeProvider time) : IDatabaseSchema
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);
    private readonly byte[] _key = Key(configuration);

    public string Sql => """
        create table if not exists tool_approvals_used (
            approval_id text primary key,
            used_at timestamptz not null default now()
        );
        """;

    public ApprovalTicket Issue(string userId, string toolCallId, string tool, JsonObject input)
    {
        var id = $"apr_{time.GetUtcNow().ToUnixTimeSeconds()}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        return new ApprovalTicket(id, Sign(id, userId, toolCallId, tool, input));
    }

    /// <summary>Checks and uses up <paramref name="ticket"/>: <c>null</c> when the call may run, else why not.</summary>
    public async Task<string?> RedeemAsync(ApprovalTicket ticket, string userId, string toolCallId, string tool, JsonObject input, CancellationToken ct)
    {
        byte[] presented;
        try { presented = Base64Url(ticket.Signature); }
        catch (FormatException) { return "its signature is malformed"; }
        if (!CryptographicOperations.FixedTimeEquals(presented, Base64Url(Sign(ticket.Id, userId, toolCallId, tool, input))))
            return "it was not issued for this user, tool call and input";
        var parts = ticket.Id.Split('_');
        if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var issued)
            || time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(issued) > Lifetime)
            return "it has expired; ask again";
        await using var command = dataSource.CreateCommand("""
            with pruned as (delete from tool_approvals_used where used_at < now() - interval '2 days')
            insert into tool_approvals_used (approval_id) values ($1) on conflict do nothing
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = ticket.Id });
        return await command.ExecuteNonQueryAsync(ct) == 1 ? null : "it was already used";
    }

    private string Sign(string approvalId, string userId, string toolCallId, string tool, JsonObject input)
    {
        var digest = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(input)))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var payload = Encoding.UTF8.GetBytes($"{approvalId}\n{toolCallId}\n{tool}\n{digest}\n{userId}");
        return Convert.ToBase64String(HMACSHA256.HashData(_key, payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Sorted keys, no spaces, numbers in their shortest form: the same text whichever client re-serialised it.</summary>
    public static string Canonical(JsonNode? node)
    {
        switch (node)
        {
            case null: return "null";
            case JsonObject o:
                return "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}";
            case JsonArray a:
                return "[" + string.Join(",", a.Select(Canonical)) + "]";
            default:
                var element = JsonSerializer.SerializeToElement(node);
                return element.ValueKind == JsonValueKind.Number
                    ? element.TryGetInt64(out var l) ? l.ToString(CultureInfo.InvariantCulture) : element.GetDouble().ToString("R", CultureInfo.InvariantCulture)
                    : node.ToJsonString();
        }
    }

    private static byte[] Base64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    private static byte[] Key(IConfiguration configuration) =>
        configuration["Internal:Token"] is { Length: >= 32 } credential
            ? HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(credential), 32,
                salt: Encoding.UTF8.GetBytes("aiassistant"), info: Encoding.UTF8.GetBytes("tool-approval-signing-key"))
            : throw new InvalidOperationException("Missing setting Internal:Token (environment Internal__Token), the service credential: it also signs tool approvals.");
}
