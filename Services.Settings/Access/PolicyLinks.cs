using System.Text.Json;
using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Errors;
using Npgsql;

namespace AiAssistant.Services.Settings.Access;

/// <summary>The <c>policies</c> of a role or a user: Directus's junction rows (<c>[{"policy": "&lt;id&gt;"}]</c>).</summary>
internal static class PolicyLinks
{
    /// <summary>Policy ids from <c>[{"policy": id}]</c> or <c>[id]</c>; 400 naming <c>policies</c> otherwise.</summary>
    public static Guid[] Parse(JsonNode? node)
    {
        if (node is not JsonArray list) throw DirectusException.InvalidPayload("\"policies\" must be a list of {\"policy\": \"<id>\"}", "policies");
        var ids = new List<Guid>();
        foreach (var item in list)
        {
            var id = item switch
            {
                JsonObject o when o["policy"] is JsonValue v && v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                _ => null,
            };
            if (!Guid.TryParse(id, out var g)) throw DirectusException.InvalidPayload("\"policies\" must be a list of {\"policy\": \"<id>\"}", "policies");
            ids.Add(g);
        }
        return ids.Distinct().ToArray();
    }

    /// <summary>Replaces the owner's links; 400 naming <c>policies</c> when one does not exist.</summary>
    public static async Task ReplaceAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string ownerColumn, Guid owner, Guid[] policies, CancellationToken ct)
    {
        var found = await SqlRows.ScalarAsync<long>(connection, tx, "select count(*) from access_policies where id = any($1)", ct, policies);
        if (found != policies.Length) throw DirectusException.InvalidPayload("\"policies\" names a policy that does not exist", "policies");
        await SqlRows.ExecuteAsync(connection, tx, $"delete from access_links where \"{ownerColumn}\" = $1", ct, owner);
        for (var i = 0; i < policies.Length; i++)
            await SqlRows.ExecuteAsync(connection, tx, $"insert into access_links (id, policy, \"{ownerColumn}\", sort) values ($1, $2, $3, $4)", ct,
                Guid.CreateVersion7(), policies[i], owner, i + 1);
    }

    /// <summary>SQL for a row's <c>policies</c> column as JSON text.</summary>
    public static string Column(string ownerColumn, string ownerExpression) =>
        $"coalesce((select json_agg(json_build_object('id', l.id, 'policy', l.policy) order by l.sort, l.id) from access_links l where l.\"{ownerColumn}\" = {ownerExpression}), '[]')::text as policies";
}
