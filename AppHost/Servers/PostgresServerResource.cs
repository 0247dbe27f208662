using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AiAssistant.AppHost.Servers;

/// <summary>Debian's PostgreSQL as an executable resource, run by <c>scripts/postgres-run.sh</c> as the postgres user.</summary>
public sealed class PostgresServerResource(string name, string script, string workingDirectory, ParameterResource password)
    : ExecutableResource(name, script, workingDirectory), IResourceWithConnectionString
{
    public EndpointReference Primary => new(this, "tcp");
    public ParameterResource Password { get; } = password;
    public List<PostgresDatabaseResource> Databases { get; } = [];

    /// <summary>Npgsql connection string without a database (the server's own <c>postgres</c> database).</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={Primary.Property(EndpointProperty.IPV4Host)};Port={Primary.Property(EndpointProperty.Port)};Username=postgres;Password={Password}");
}

/// <summary>A database on the server, created once the server is ready; its connection string names the database.</summary>
public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource parent)
    : Resource(name), IResourceWithParent<PostgresServerResource>, IResourceWithConnectionString
{
    public PostgresServerResource Parent { get; } = parent;
    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent.ConnectionStringExpression};Database={DatabaseName}");
}

public static class PostgresServerExtensions
{
    /// <summary>
    /// PostgreSQL on 127.0.0.1 with its data in <c>{data}/{name}/data</c> (initdb at the first start, with
    /// <paramref name="password"/> for the postgres user). <paramref name="durable"/> false turns fsync off (tests).
    /// </summary>
    public static IResourceBuilder<PostgresServerResource> AddPostgresServer(this IDistributedApplicationBuilder builder,
        string name, string dataFolder, IResourceBuilder<ParameterResource> password, bool durable = true)
    {
        var folder = Directory.CreateDirectory(Path.Combine(dataFolder, name)).FullName;
        var script = Path.Combine(AppContext.BaseDirectory, "Servers", "scripts", "postgres-run.sh");
        var postgres = builder.AddResource(new PostgresServerResource(name, script, folder, password.Resource))
            .WithEndpoint(name: "tcp", scheme: "tcp", isProxied: false)
            .WithEnvironment("PG_PASSWORD", password);
        var server = postgres.Resource;
        postgres.WithArgs(context =>
        {
            context.Args.Add(server.Primary.Property(EndpointProperty.TargetPort));
            context.Args.Add(folder);
            context.Args.Add(durable ? "true" : "false");
        });
        postgres.WithReadinessCheck(async ct =>
        {
            await using var connection = new NpgsqlConnection(await ConnectionStringAsync(server, "postgres", ct).ConfigureAwait(false));
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return null;
        });
        // As Aspire.Hosting.PostgreSQL does: the databases are created when the server becomes ready.
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (e, ct) =>
        {
            await using var connection = new NpgsqlConnection(await ConnectionStringAsync(server, "postgres", ct).ConfigureAwait(false));
            await connection.OpenAsync(ct).ConfigureAwait(false);
            var notifications = e.Services.GetRequiredService<ResourceNotificationService>();
            foreach (var database in server.Databases)
            {
                await CreateIfMissingAsync(connection, database.DatabaseName, ct).ConfigureAwait(false);
                // a resource without a process of its own: Running (then its health check runs) once it exists
                await notifications.PublishUpdateAsync(database, s => s with
                {
                    State = KnownResourceStates.Running,
                    StartTimeStamp = DateTime.UtcNow,
                }).ConfigureAwait(false);
            }
        });
        return postgres;
    }

    /// <summary>A database of the server: a resource whose connection string the services reference.</summary>
    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> server, string name, string databaseName)
    {
        var database = new PostgresDatabaseResource(name, databaseName, server.Resource);
        server.Resource.Databases.Add(database);
        return server.ApplicationBuilder.AddResource(database)
            .WithReadinessCheck(async ct =>
            {
                await using var connection = new NpgsqlConnection(await ConnectionStringAsync(server.Resource, databaseName, ct).ConfigureAwait(false));
                await connection.OpenAsync(ct).ConfigureAwait(false);
                return null;
            });
    }

    private static async Task<string> ConnectionStringAsync(PostgresServerResource server, string database, CancellationToken ct) =>
        $"{await server.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false)};Database={database};Pooling=false;Timeout=3";

    public static async Task CreateIfMissingAsync(NpgsqlConnection connection, string database, CancellationToken ct)
    {
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection);
        exists.Parameters.AddWithValue(database);
        if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is not null) return;
        await using var create = new NpgsqlCommand($"create database \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
