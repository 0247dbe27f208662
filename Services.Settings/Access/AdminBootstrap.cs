using AiAssistant.ServiceDefaults.Access;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// First start: the Administrator policy and role, and the admin user from ADMIN_EMAIL / ADMIN_PASSWORD (a generated
/// password is logged once; a given one never is). ADMIN_TOKEN, when given, is that user's static token, stored as its
/// SHA-256, on every start (so the AppHost's token keeps working).
/// </summary>
public sealed class AdminBootstrap(AccessStore store, Passwords passwords, IConfiguration configuration, ILogger<AdminBootstrap> logger) : IHostedService
{
    public const string DefaultEmail = "admin@example.com";

    public async Task StartAsync(CancellationToken ct)
    {
        var email = configuration["ADMIN_EMAIL"] is { Length: > 0 } e ? e.Trim() : DefaultEmail;
        var givenPassword = configuration["ADMIN_PASSWORD"] is { Length: > 0 } p ? p : null;
        var tokenHash = configuration["ADMIN_TOKEN"] is { Length: > 0 } t ? CallerResolver.Sha256Hex(t) : null;
        if (!UserRules.IsEmail(email))
            throw new InvalidOperationException("ADMIN_EMAIL must be an email address.");

        string? generated = null;
        var outcome = await store.ChangeAsync("bootstrap", async (connection, tx) =>
        {
            await SqlRows.ExecuteAsync(connection, tx, "select pg_advisory_xact_lock(4243)", ct);
            if (await SqlRows.ScalarAsync<bool>(connection, tx, "select exists (select 1 from access_users)", ct))
            {
                if (tokenHash is null) return ("kept", Enumerable.Empty<Guid>());
                // Another user holding the same token loses it: the token names one user only.
                await SqlRows.ExecuteAsync(connection, tx,
                    "update access_users set token_sha256 = null where token_sha256 = $1 and not bootstrap", ct, tokenHash);
                var changed = await SqlRows.ReadAsync(connection, tx,
                    "update access_users set token_sha256 = $1 where bootstrap and token_sha256 is distinct from $1 returning id",
                    [tokenHash], ct);
                return (changed.Count > 0 ? "token" : "kept", changed.Select(r => Guid.Parse(r["id"]!.GetValue<string>())));
            }

            var policy = Guid.CreateVersion7();
            var role = Guid.CreateVersion7();
            var user = Guid.CreateVersion7();
            await SqlRows.ExecuteAsync(connection, tx,
                "insert into access_policies (id, name, icon, description, admin_access, app_access) values ($1, 'Administrator', 'verified', '$t:admin_description', true, true)",
                ct, policy);
            await SqlRows.ExecuteAsync(connection, tx,
                "insert into access_roles (id, name, icon, description) values ($1, 'Administrator', 'verified', '$t:admin_description')", ct, role);
            await SqlRows.ExecuteAsync(connection, tx, "insert into access_links (id, policy, role) values ($1, $2, $3)", ct,
                Guid.CreateVersion7(), policy, role);
            generated = givenPassword is null ? Passwords.Generate() : null;
            await SqlRows.ExecuteAsync(connection, tx, """
                insert into access_users (id, email, password_hash, first_name, last_name, status, role, token_sha256, bootstrap)
                values ($1, $2, $3, 'Admin', 'User', 'active', $4, $5, true)
                """, ct, user, email, passwords.Hash(givenPassword ?? generated!), role, tokenHash);
            return ("created", new[] { user });
        }, ct);

        if (outcome == "created" && generated is not null)
            logger.LogWarning("Created the first admin user {Email} with the generated password {Password} (shown once; set ADMIN_PASSWORD to choose it)",
                email, generated);
        else if (outcome == "created")
            logger.LogInformation("Created the first admin user {Email} with the password from ADMIN_PASSWORD", email);
        else if (outcome == "token")
            logger.LogInformation("The first admin's static token was set from ADMIN_TOKEN");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
