using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using Npgsql;

namespace AiAssistant.Services.Settings.Access;

/// <summary><c>/users</c>: the caller's own record for everyone signed in, everything else for admins.</summary>
public static class UsersApi
{
    private static readonly string[] Writable = ["email", "password", "first_name", "last_name", "status", "role", "token", "policies"];
    private static readonly string[] OwnWritable = ["first_name", "last_name", "password", "current_password"];

    private static readonly string Select = $"""
        select u.id, u.first_name, u.last_name, u.email,
               case when u.password_hash is null then null else '**********' end as password,
               u.status, u.role,
               case when u.token_sha256 is null then null else '**********' end as token,
               u.last_access, {PolicyLinks.Column("user", "u.id")}
        from access_users u
        """;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/users");
        group.MapGet("/me", ReadMe).WithName("ReadMe");
        group.MapPatch("/me", UpdateMe).WithName("UpdateMe");
        group.MapGet("", List).WithName("ListUsers");
        group.MapGet("/{id}", Read).WithName("ReadUser");
        group.MapPost("", Create).WithName("CreateUser");
        group.MapPatch("/{id}", Update).WithName("UpdateUser");
        group.MapDelete("/{id}", Delete).WithName("DeleteUser");
        return app;
    }

    private static async Task<List<JsonObject>> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, Guid? id, CancellationToken ct) =>
        await SqlRows.ReadAsync(connection, tx, Select + (id is null ? " order by u.email" : " where u.id = $1"), id is null ? [] : [id.Value], ct, "policies");

    private static async Task<JsonObject> OneAsync(AccessStore store, Guid id, CancellationToken ct)
    {
        await using var connection = await store.DataSource.OpenConnectionAsync(ct);
        return (await LoadAsync(connection, null, id, ct)).SingleOrDefault() ?? throw AccessBody.NotFound("user");
    }

    private static async Task<IResult> ReadMe(HttpContext context, AccessStore store, CancellationToken ct)
    {
        var caller = context.RequireUser();
        var row = await OneAsync(store, Guid.Parse(caller.UserId), ct);
        return TypedResults.Json(new { data = DirectusQuery.Select(row, context.Request.Query["fields"], row.Select(p => p.Key).ToHashSet(), "directus_users") });
    }

    private static async Task<IResult> UpdateMe(HttpContext context, AccessStore store, Passwords passwords, CancellationToken ct)
    {
        var caller = context.RequireUser();
        var id = Guid.Parse(caller.UserId);
        var body = await AccessBody.ReadObjectAsync(context.Request, ct, OwnWritable);
        var first = AccessBody.OptionalString(body, "first_name", 200);
        var last = AccessBody.OptionalString(body, "last_name", 200);
        string? newHash = null;
        if (body.ContainsKey("password"))
        {
            var password = UserRules.Password(body);
            var current = UserRules.Password(body, "current_password");
            await using var connection = await store.DataSource.OpenConnectionAsync(ct);
            var stored = await SqlRows.ScalarAsync<string>(connection, null, "select password_hash from access_users where id = $1", ct, id);
            if (!passwords.Verify(stored, current).Ok)
                throw DirectusException.InvalidPayload("\"current_password\" is not your current password", "current_password");
            newHash = passwords.Hash(password);
        }
        await store.ChangeAsync("users.me", async (connection, tx) =>
        {
            if (body.ContainsKey("first_name")) await SqlRows.ExecuteAsync(connection, tx, "update access_users set first_name = $2 where id = $1", ct, id, first);
            if (body.ContainsKey("last_name")) await SqlRows.ExecuteAsync(connection, tx, "update access_users set last_name = $2 where id = $1", ct, id, last);
            if (newHash is not null)
            {
                await SqlRows.ExecuteAsync(connection, tx, "update access_users set password_hash = $2 where id = $1", ct, id, newHash);
                await Sessions.RevokeUserAsync(connection, tx, id, ct);
            }
            return (0, new[] { id });
        }, ct);
        return TypedResults.Json(new { data = await OneAsync(store, id, ct) });
    }

    private static async Task<IResult> List(HttpContext context, AccessStore store, CancellationToken ct)
    {
        context.RequireAdmin();
        await using var connection = await store.DataSource.OpenConnectionAsync(ct);
        return TypedResults.Json(new { data = DirectusQuery.Apply(await LoadAsync(connection, null, null, ct), context.Request.Query, "directus_users") });
    }

    private static async Task<IResult> Read(string id, HttpContext context, AccessStore store, CancellationToken ct)
    {
        context.RequireAdmin();
        var row = await OneAsync(store, AccessBody.PathId(id, "user"), ct);
        return TypedResults.Json(new { data = DirectusQuery.Select(row, context.Request.Query["fields"], row.Select(p => p.Key).ToHashSet(), "directus_users") });
    }

    private static async Task<IResult> Create(HttpContext context, AccessStore store, Passwords passwords, CancellationToken ct)
    {
        context.RequireAdmin();
        var body = await AccessBody.ReadObjectAsync(context.Request, ct, Writable);
        var input = Parse(body, passwords, creating: true);
        var id = Guid.CreateVersion7();
        await store.ChangeAsync("users", async (connection, tx) =>
        {
            await RequireRoleAsync(connection, tx, input.Role, ct);
            await Translate(() => SqlRows.ExecuteAsync(connection, tx, """
                insert into access_users (id, email, password_hash, first_name, last_name, status, role, token_sha256)
                values ($1, $2, $3, $4, $5, $6, $7, $8)
                """, ct, id, input.Email, input.PasswordHash, input.FirstName, input.LastName, input.Status ?? "active", input.Role, input.TokenHash));
            if (input.Policies is not null) await PolicyLinks.ReplaceAsync(connection, tx, "user", id, input.Policies, ct);
            return (0, new[] { id });
        }, ct);
        return TypedResults.Json(new { data = await OneAsync(store, id, ct) });
    }

    private static async Task<IResult> Update(string id, HttpContext context, AccessStore store, Passwords passwords, CancellationToken ct)
    {
        context.RequireAdmin();
        var userId = AccessBody.PathId(id, "user");
        var body = await AccessBody.ReadObjectAsync(context.Request, ct, Writable);
        var input = Parse(body, passwords, creating: false);
        await store.ChangeAsync("users", async (connection, tx) =>
        {
            if (await SqlRows.ScalarAsync<bool>(connection, tx, "select exists (select 1 from access_users where id = $1 for update)", ct, userId) != true)
                throw AccessBody.NotFound("user");
            if (body.ContainsKey("role")) await RequireRoleAsync(connection, tx, input.Role, ct);
            foreach (var (field, column, value) in new (string, string, object?)[]
            {
                ("email", "email", input.Email), ("password", "password_hash", input.PasswordHash), ("first_name", "first_name", input.FirstName),
                ("last_name", "last_name", input.LastName), ("status", "status", input.Status), ("role", "role", input.Role), ("token", "token_sha256", input.TokenHash),
            })
                if (body.ContainsKey(field))
                    await Translate(() => SqlRows.ExecuteAsync(connection, tx, $"update access_users set {column} = $2 where id = $1", ct, userId, value));
            if (input.Policies is not null) await PolicyLinks.ReplaceAsync(connection, tx, "user", userId, input.Policies, ct);
            if (body.ContainsKey("password") || (input.Status is not null && input.Status != UserAccess.Active))
                await Sessions.RevokeUserAsync(connection, tx, userId, ct);
            return (0, new[] { userId });
        }, ct);
        return TypedResults.Json(new { data = await OneAsync(store, userId, ct) });
    }

    private static async Task<IResult> Delete(string id, HttpContext context, AccessStore store, CancellationToken ct)
    {
        context.RequireAdmin();
        var userId = AccessBody.PathId(id, "user");
        await store.ChangeAsync("users", async (connection, tx) =>
        {
            if (await SqlRows.ExecuteAsync(connection, tx, "delete from access_users where id = $1", ct, userId) == 0) throw AccessBody.NotFound("user");
            return (0, new[] { userId });
        }, ct);
        return TypedResults.NoContent();
    }

    private sealed record UserInput(string? Email, string? PasswordHash, string? FirstName, string? LastName, string? Status, Guid? Role, string? TokenHash, Guid[]? Policies);

    /// <summary>Validates every field before anything is written; the password and token leave this method hashed.</summary>
    private static UserInput Parse(JsonObject body, Passwords passwords, bool creating)
    {
        var email = creating || body.ContainsKey("email") ? UserRules.Email(body) : null;
        var password = body.ContainsKey("password") || creating && body["password"] is not null ? UserRules.Password(body) : null;
        var status = body.ContainsKey("status") ? UserRules.Status(body) : null;
        var role = AccessBody.OptionalId(body, "role");
        var token = body["token"] is null ? null : CallerResolver.Sha256Hex(UserRules.Token(body));
        var policies = body.ContainsKey("policies") ? PolicyLinks.Parse(body["policies"]) : null;
        return new UserInput(email, password is null ? null : passwords.Hash(password), AccessBody.OptionalString(body, "first_name", 200),
            AccessBody.OptionalString(body, "last_name", 200), status, role, token, policies);
    }

    private static async Task RequireRoleAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid? role, CancellationToken ct)
    {
        if (role is { } r && await SqlRows.ScalarAsync<bool>(connection, tx, "select exists (select 1 from access_roles where id = $1)", ct, r) != true)
            throw DirectusException.InvalidPayload("\"role\" names a role that does not exist", "role");
    }

    /// <summary>Unique violations become a 400 naming the field (the value itself is never repeated).</summary>
    private static async Task Translate(Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            var field = e.ConstraintName?.Contains("token") == true ? "token" : "email";
            throw DirectusException.InvalidPayload($"\"{field}\" has to be unique", field);
        }
    }
}
