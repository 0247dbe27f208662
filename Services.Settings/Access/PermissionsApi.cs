using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using Npgsql;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// <c>/permissions</c> (admins) and <c>/permissions/me</c> (anyone signed in): what a policy lets its holders do on a
/// collection. Stored and served here; Services.Tools enforces them on content.
/// </summary>
public static class PermissionsApi
{
    private static readonly string[] Writable = ["policy", "collection", "action", "fields", "permissions", "validation", "presets"];
    private const string Select = """
        select p.id, p.policy, p.collection, p.action, p.fields, p.permissions::text as permissions,
               p.validation::text as validation, p.presets::text as presets
        from access_permissions p
        """;

    public static IEndpointRouteBuilder MapPermissionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/permissions");
        group.MapGet("/me", Mine).WithName("MyPermissions");
        group.MapGet("", async (HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await using var connection = await store.DataSource.OpenConnectionAsync(ct);
            var rows = await SqlRows.ReadAsync(connection, null, Select + " order by p.id", [], ct, "permissions", "validation", "presets");
            return TypedResults.Json(new { data = DirectusQuery.Apply(rows, context.Request.Query, "directus_permissions") });
        }).WithName("ListPermissions");
        group.MapGet("/{id:long}", async (long id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            return TypedResults.Json(new { data = await OneAsync(store, id, ct) });
        }).WithName("ReadPermission");
        group.MapPost("", async (HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var body = await AccessBody.ReadObjectAsync(context.Request, ct, Writable);
            var policy = AccessBody.OptionalId(body, "policy") ?? throw DirectusException.InvalidPayload("\"policy\" is required", "policy");
            var input = PermissionRules.Parse(body);
            var id = await store.ChangeAsync("permissions", async (connection, tx) =>
            {
                await RequirePolicyAsync(connection, tx, policy, ct);
                return (await InsertAsync(connection, tx, policy, input, ct), await AccessStore.UsersOfAsync(connection, tx, [], [policy], ct));
            }, ct);
            return TypedResults.Json(new { data = await OneAsync(store, id, ct) });
        }).WithName("CreatePermission");
        group.MapPatch("/{id:long}", async (long id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var body = await AccessBody.ReadObjectAsync(context.Request, ct, Writable);
            var policy = AccessBody.OptionalId(body, "policy");
            var input = PermissionRules.Parse(body, partial: true);
            await store.ChangeAsync("permissions", async (connection, tx) =>
            {
                var current = await SqlRows.ScalarAsync<Guid?>(connection, tx, "select policy from access_permissions where id = $1 for update", ct, id)
                              ?? throw AccessBody.NotFound("permission");
                if (policy is { } p) await RequirePolicyAsync(connection, tx, p, ct);
                await SqlRows.ExecuteAsync(connection, tx, """
                    update access_permissions set policy = coalesce($2, policy), collection = coalesce($3, collection), action = coalesce($4, action),
                        fields = case when $5 then $6 else fields end, permissions = case when $7 then $8 else permissions end,
                        validation = case when $9 then $10 else validation end, presets = case when $11 then $12 else presets end
                    where id = $1
                    """, ct, id, policy, input.Collection, input.Action, input.FieldsGiven, input.Fields, input.PermissionsGiven, input.Permissions,
                    input.ValidationGiven, input.Validation, input.PresetsGiven, input.Presets);
                return (0, await AccessStore.UsersOfAsync(connection, tx, [], policy is { } np ? [current, np] : [current], ct));
            }, ct);
            return TypedResults.Json(new { data = await OneAsync(store, id, ct) });
        }).WithName("UpdatePermission");
        group.MapDelete("/{id:long}", async (long id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await store.ChangeAsync("permissions", async (connection, tx) =>
            {
                var policy = await SqlRows.ScalarAsync<Guid?>(connection, tx, "delete from access_permissions where id = $1 returning policy", ct, id)
                             ?? throw AccessBody.NotFound("permission");
                return (0, await AccessStore.UsersOfAsync(connection, tx, [], [policy], ct));
            }, ct);
            return TypedResults.NoContent();
        }).WithName("DeletePermission");
        return app;
    }

    public static async Task<long> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid policy, PermissionInput p, CancellationToken ct) =>
        await SqlRows.ScalarAsync<long>(connection, tx, """
            insert into access_permissions (policy, collection, action, fields, permissions, validation, presets)
            values ($1, $2, $3, $4, $5, $6, $7) returning id
            """, ct, policy, p.Collection, p.Action, p.Fields, p.Permissions, p.Validation, p.Presets);

    /// <summary>
    /// The caller's permissions by collection and action, merged over every policy of their role and their own:
    /// <c>{"articles": {"read": {"access": "full"|"partial", "fields": [...], "permissions": {...}, ...}}}</c>.
    /// Admins get <c>{"*": {action: {"access": "full"}}}</c>: they may do everything everywhere.
    /// </summary>
    private static async Task<IResult> Mine(HttpContext context, AccessStore store, CancellationToken ct)
    {
        var caller = context.RequireUser();
        var result = new JsonObject();
        if (caller.Admin)
        {
            result["*"] = new JsonObject(PermissionRules.Actions.Select(a => KeyValuePair.Create(a, (JsonNode?)new JsonObject { ["access"] = "full" })));
            return TypedResults.Json(new { data = result });
        }
        await using var connection = await store.DataSource.OpenConnectionAsync(ct);
        var rows = await SqlRows.ReadAsync(connection, null, Select + """
             where p.policy in (
                select l.policy from access_links l join access_users u on l."user" = u.id or (u.role is not null and l.role = u.role) where u.id = $1)
             order by p.id
            """, [Guid.Parse(caller.UserId)], ct, "permissions", "validation", "presets");
        foreach (var group in rows.GroupBy(r => (r["collection"]!.GetValue<string>(), r["action"]!.GetValue<string>())))
        {
            var fields = group.SelectMany(r => r["fields"] is JsonArray f ? f.Select(x => x!.GetValue<string>()) : []).Distinct().ToList();
            var filters = group.Select(r => r["permissions"]).ToList();
            var unfiltered = filters.Any(f => f is null || f is JsonObject { Count: 0 });
            var entry = new JsonObject
            {
                ["access"] = unfiltered && fields.Contains("*") ? "full" : "partial",
                ["fields"] = new JsonArray(fields.Select(f => (JsonNode?)f).ToArray()),
                ["permissions"] = unfiltered ? null : new JsonObject { ["_or"] = new JsonArray(filters.Select(f => f?.DeepClone()).ToArray()) },
                ["presets"] = group.Select(r => r["presets"]).LastOrDefault(p => p is not null)?.DeepClone(),
            };
            var (collection, action) = group.Key;
            if (result[collection] is not JsonObject byAction) result[collection] = byAction = new JsonObject();
            byAction[action] = entry;
        }
        return TypedResults.Json(new { data = result });
    }

    private static async Task RequirePolicyAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid policy, CancellationToken ct)
    {
        if (await SqlRows.ScalarAsync<bool>(connection, tx, "select exists (select 1 from access_policies where id = $1)", ct, policy) != true)
            throw DirectusException.InvalidPayload("\"policy\" names a policy that does not exist", "policy");
    }

    private static async Task<JsonObject> OneAsync(AccessStore store, long id, CancellationToken ct)
    {
        await using var connection = await store.DataSource.OpenConnectionAsync(ct);
        return (await SqlRows.ReadAsync(connection, null, Select + " where p.id = $1", [id], ct, "permissions", "validation", "presets")).SingleOrDefault()
               ?? throw AccessBody.NotFound("permission");
    }
}
