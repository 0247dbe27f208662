using System.Text.Json.Nodes;
using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;

namespace AiAssistant.Services.Settings.Access;

/// <summary><c>/auth/login</c>, <c>/auth/refresh</c>, <c>/auth/logout</c> in Directus's JSON mode.</summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/auth");
        group.MapPost("/login", Login).WithName("Login");
        group.MapPost("/refresh", Refresh).WithName("Refresh");
        group.MapPost("/logout", Logout).WithName("Logout");
        return app;
    }

    private static async Task<IResult> Login(HttpContext context, AccessStore store, Passwords passwords, Sessions sessions,
        AccessTokens tokens, LoginRateLimit limit, ILoggerFactory loggers, CancellationToken ct)
    {
        var body = await AccessBody.ReadObjectAsync(context.Request, ct);
        var email = AccessBody.RequiredString(body, "email", 254).Trim();
        var password = UserRules.Password(body);
        Mode(body);
        var address = LoginRateLimit.ClientAddress(context);
        try
        {
            await limit.CheckAsync(email, address, ct);
        }
        catch (LoginRateLimit.RateLimited e)
        {
            return e.ToResult(context);
        }

        await using var connection = await store.DataSource.OpenConnectionAsync(ct);
        var rows = await SqlRows.ReadAsync(connection, null,
            "select id, password_hash from access_users where lower(email) = lower($1)", [email], ct);
        var hash = rows.Count == 1 ? rows[0]["password_hash"]?.GetValue<string>() : null;
        var (ok, rehash) = passwords.Verify(hash, password);
        if (!ok)
        {
            await limit.FailedAsync(email, address, ct);
            loggers.CreateLogger("AiAssistant.Auth").LogInformation("Failed sign-in from {Address}", address);
            throw DirectusException.Unauthenticated();
        }
        var id = Guid.Parse(rows[0]["id"]!.GetValue<string>());
        var access = await store.FindUserAsync(id.ToString(), ct) ?? throw DirectusException.Unauthenticated();
        if (access.Status == "suspended")
            throw new DirectusException(StatusCodes.Status401Unauthorized, AccessNames.UserSuspended, "User suspended.");
        if (!access.IsActive) throw DirectusException.Unauthenticated();

        await SqlRows.ExecuteAsync(connection, null,
            rehash ? "update access_users set last_access = now(), password_hash = $2 where id = $1" : "update access_users set last_access = now() where id = $1",
            ct, rehash ? [id, passwords.Hash(password)] : [id]);
        var refresh = await sessions.StartAsync(id, ct);
        return Tokens(tokens, access, refresh);
    }

    private static async Task<IResult> Refresh(HttpContext context, AccessStore store, Sessions sessions, AccessTokens tokens, CancellationToken ct)
    {
        var body = await AccessBody.ReadObjectAsync(context.Request, ct);
        var refreshToken = AccessBody.RequiredString(body, "refresh_token", 200);
        Mode(body);
        UserAccess? access = null;
        var (outcome, _, next) = await sessions.RotateAsync(refreshToken, async user =>
        {
            access = await store.FindUserAsync(user.ToString(), ct);
            return access is { IsActive: true };
        }, ct);
        if (outcome != Sessions.Outcome.Rotated || access is null) throw DirectusException.Unauthenticated();
        return Tokens(tokens, access, next!);
    }

    private static async Task<IResult> Logout(HttpContext context, Sessions sessions, CancellationToken ct)
    {
        var body = await AccessBody.ReadObjectAsync(context.Request, ct);
        var refreshToken = AccessBody.RequiredString(body, "refresh_token", 200);
        Mode(body);
        if (!await sessions.EndAsync(refreshToken, ct)) throw DirectusException.Unauthenticated();
        return TypedResults.NoContent();
    }

    private static IResult Tokens(AccessTokens tokens, UserAccess access, string refresh)
    {
        var (token, _) = tokens.Issue(access.ToCaller());
        return TypedResults.Json(new
        {
            data = new { access_token = token, expires = (long)tokens.Lifetime.TotalMilliseconds, refresh_token = refresh },
        });
    }

    /// <summary>Only Directus's default JSON mode: tokens in the body (cookie and session modes are not offered).</summary>
    private static void Mode(JsonObject body)
    {
        var mode = AccessBody.OptionalString(body, "mode", 20);
        if (mode is not null and not "json")
            throw DirectusException.InvalidPayload("\"mode\" must be \"json\" (cookie and session modes are not supported)", "mode");
    }
}
