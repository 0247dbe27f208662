using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using Npgsql;

namespace AiAssistant.Services.Settings.Access;

/// <summary><c>/roles</c> (admins): a role is <c>{"name", "icon", "description", "policies": [{"policy": "&lt;id&gt;"}]}</c>.</summary>
public static class RolesApi
{
    private static readonly string[] Writable = ["name", "icon", "description", "policies"];
    private static readonly string Select = $"select r.id, r.name, r.icon, r.description, {PolicyLinks.Column("role", "r.id")} from access_roles r";

    public static IEndpointRouteBuilder MapRolesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/roles");
        group.MapGet("", async (HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            await using var connection = await store.DataSource.OpenConnectionAsync(ct);
            var rows = await SqlRows.ReadAsync(connection, null, Select + " order by r.name", [], ct, "policies");
            return TypedResults.Json(new { data = DirectusQuery.Apply(rows, context.Request.Query, "directus_roles") });
        }).WithName("ListRoles");
        group.MapGet("/{id}", async (string id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            return TypedResults.Json(new { data = await OneAsync(store, AccessBody.PathId(id, "role"), ct) });
        }).WithName("ReadRole");
        group.MapPost("", async (HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var body = await AccessBody.ReadObjectAsync(context.Request, ct, Writable);
            var name = AccessBody.RequiredString(body, "name", 100);
            var icon = AccessBody.OptionalString(body, "icon", 64) ?? "supervised_user_circle";
            var description = AccessBody.OptionalString(body, "description", 2000);
            var policies = body.ContainsKey("policies") ? PolicyLinks.Parse(body["policies"]) : [];
            var id = Guid.CreateVersion7();
            await store.ChangeAsync("roles", async (connection, tx) =>
            {
                await SqlRows.ExecuteAsync(connection, tx, "insert into access_roles (id, name, icon, description) values ($1, $2, $3, $4)", ct, id, name, icon, description);
                await PolicyLinks.ReplaceAsync(connection, tx, "role", id, policies, ct);
                return (0, Array.Empty<Guid>());
            }, ct);
            return TypedResults.Json(new { data = await OneAsync(store, id, ct) });
        }).WithName("CreateRole");
        group.MapPatch("/{id}", async (string id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var roleId = AccessBody.PathId(id, "role");
            var body = await AccessBody.ReadObjectAsync(context.Request, ct, Writable);
            var name = body.ContainsKey("name") ? AccessBody.RequiredString(body, "name", 100) : null;
            var icon = AccessBody.OptionalString(body, "icon", 64);
            var description = AccessBody.OptionalString(body, "description", 2000);
            var policies = body.ContainsKey("policies") ? PolicyLinks.Parse(body["policies"]) : null;
            await store.ChangeAsync("roles", async (connection, tx) =>
            {
                if (await SqlRows.ExecuteAsync(connection, tx, """
                    update access_roles set name = coalesce($2, name), icon = coalesce($3, icon),
                        description = case when $4 then $5 else description end where id = $1
                    """, ct, roleId, name, icon, body.ContainsKey("description"), description) == 0)
                    throw AccessBody.NotFound("role");
                if (policies is not null) await PolicyLinks.ReplaceAsync(connection, tx, "role", roleId, policies, ct);
                return (0, await AccessStore.UsersOfAsync(connection, tx, [roleId], [], ct));
            }, ct);
            return TypedResults.Json(new { data = await OneAsync(store, roleId, ct) });
        }).WithName("UpdateRole");
        group.MapDelete("/{id}", async (string id, HttpContext context, AccessStore store, CancellationToken ct) =>
        {
            context.RequireAdmin();
            var roleId = AccessBody.PathId(id, "role");
            await store.ChangeAsync("roles", async (connection, tx) =>
            {
                var users = await AccessStore.UsersOfAsync(connection, tx, [roleId], [], ct);
                if (await SqlRows.ExecuteAsync(connection, tx, "delete from access_roles where id = $1", ct, roleId) == 0) throw AccessBody.NotFound("role");
                return (0, users);
            }, ct);
            return TypedResults.NoContent();
        }).WithName("DeleteRole");
        return app;
    }

    private static async Task<JsonObject> OneAsync(AccessStore store, Guid id, CancellationToken ct)
    {
        await using var connection = await store.DataSource.OpenConnectionAsync(ct);
        return (await SqlRows.ReadAsync(connection, null, Select + " where r.id = $1", [id], ct, "policies")).SingleOrDefault()
               ?? throw AccessBody.NotFound("role");
    }
}
