using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using Npgsql;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// <c>/policies</c> (admins): <c>{"name", "icon", "description", "admin_access", "app_access", "enforce_tfa"}</c>, and on
/// create optionally <c>"permissions": [...]</c> stored with it in one transaction.
/// </summary>
public static class PoliciesApi
{
    private static readonly string[] Writable = ["name", "icon", "description", "admin_access", "app_access", "enforce_tfa", "permissions"];
    private const string Select = "select p.id, p.name, p.icon, p.description, p.admin_access, p.app_access, p.enforce_tfa from access_policies p";

    public static IEndpointRouteBuilder MapPoliciesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/policies");
        group.MapGet("", async (HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await using var connection = await store.DataSource.OpenConnectionAsync(ct);
            var rows = await SqlRows.ReadAsync(connection, null, Select + " order by p.name", [], ct);
            return TypedResults.Json(new { data = DirectusQuery.Apply(rows, context.Request.Query, "directus_policies") });
        }).WithName("ListPolicies");
        // Directus's /policies/me/globals: what the signed-in user's policies grant together (the app reads it after sign-in).
        group.MapGet("/me/globals", (HttpContext context) =>
        {
            var caller = context.RequireUser();
            return TypedResults.Json(new { data = new { app_access = caller.App || caller.Admin, admin_access = caller.Admin } });
        }).WithName("MyPolicyGlobals");
        group.MapGet("/{id}", async (string id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            return TypedResults.Json(new { data = await OneAsync(store, AccessBody.PathId(id, "policy"), ct) });
        }).WithName("ReadPolicy");
        group.MapPost("", async (HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var body = await AccessBody.ReadObjectAsync(context.Request, ct, Writable);
            var name = AccessBody.RequiredString(body, "name", 100);
            var icon = AccessBody.OptionalString(body, "icon", 64) ?? "badge";
            var description = AccessBody.OptionalString(body, "description", 2000);
            var admin = AccessBody.OptionalBool(body, "admin_access") ?? false;
            var appAccess = AccessBody.OptionalBool(body, "app_access") ?? false;
            var tfa = AccessBody.OptionalBool(body, "enforce_tfa") ?? false;
            var permissions = new List<PermissionInput>();
            if (body["permissions"] is { } list)
            {
                if (list is not JsonArray array) throw DirectusException.InvalidPayload("\"permissions\" must be a list of permissions", "permissions");
                for (var i = 0; i < array.Count; i++)
                    permissions.Add(PermissionRules.Parse(array[i] as JsonObject
                        ?? throw DirectusException.InvalidPayload($"\"permissions[{i}]\" must be an object", $"permissions[{i}]"), $"permissions[{i}]."));
            }
            var id = Guid.CreateVersion7();
            await store.ChangeAsync("policies", async (connection, tx) =>
            {
                await SqlRows.ExecuteAsync(connection, tx,
                    "insert into access_policies (id, name, icon, description, admin_access, app_access, enforce_tfa) values ($1, $2, $3, $4, $5, $6, $7)",
                    ct, id, name, icon, description, admin, appAccess, tfa);
                foreach (var p in permissions) await PermissionsApi.InsertAsync(connection, tx, id, p, ct);
                return (0, Array.Empty<Guid>());
            }, ct);
            return TypedResults.Json(new { data = await OneAsync(store, id, ct) });
        }).WithName("CreatePolicy");
        group.MapPatch("/{id}", async (string id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var policyId = AccessBody.PathId(id, "policy");
            var body = await AccessBody.ReadObjectAsync(context.Request, ct, Writable.Where(w => w != "permissions").ToArray());
            var name = body.ContainsKey("name") ? AccessBody.RequiredString(body, "name", 100) : null;
            var icon = AccessBody.OptionalString(body, "icon", 64);
            var description = AccessBody.OptionalString(body, "description", 2000);
            var admin = AccessBody.OptionalBool(body, "admin_access");
            var appAccess = AccessBody.OptionalBool(body, "app_access");
            var tfa = AccessBody.OptionalBool(body, "enforce_tfa");
            await store.ChangeAsync("policies", async (connection, tx) =>
            {
                if (await SqlRows.ExecuteAsync(connection, tx, """
                    update access_policies set name = coalesce($2, name), icon = coalesce($3, icon),
                        description = case when $4 then $5 else description end, admin_access = coalesce($6, admin_access),
                        app_access = coalesce($7, app_access), enforce_tfa = coalesce($8, enforce_tfa) where id = $1
                    """, ct, policyId, name, icon, body.ContainsKey("description"), description, admin, appAccess, tfa) == 0)
                    throw AccessBody.NotFound("policy");
                return (0, await AccessStore.UsersOfAsync(connection, tx, [], [policyId], ct));
            }, ct);
            return TypedResults.Json(new { data = await OneAsync(store, policyId, ct) });
        }).WithName("UpdatePolicy");
        group.MapDelete("/{id}", async (string id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var policyId = AccessBody.PathId(id, "policy");
            if (policyId == Guid.Parse(AccessSchema.PublicPolicyId))
                throw DirectusException.InvalidPayload("The Public policy cannot be deleted");
            await store.ChangeAsync("policies", async (connection, tx) =>
            {
                var users = await AccessStore.UsersOfAsync(connection, tx, [], [policyId], ct);
                if (await SqlRows.ExecuteAsync(connection, tx, "delete from access_policies where id = $1", ct, policyId) == 0) throw AccessBody.NotFound("policy");
                return (0, users);
            }, ct);
            return TypedResults.NoContent();
        }).WithName("DeletePolicy");
        return app;
    }

    private static async Task<JsonObject> OneAsync(AccessStore store, Guid id, CancellationToken ct)
    {
        await using var connection = await store.DataSource.OpenConnectionAsync(ct);
        return (await SqlRows.ReadAsync(connection, null, Select + " where p.id = $1", [id], ct)).SingleOrDefault()
               ?? throw AccessBody.NotFound("policy");
    }
}
