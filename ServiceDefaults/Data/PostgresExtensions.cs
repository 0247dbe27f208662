using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace AiAssistant.ServiceDefaults.Data;

/// <summary>A database schema step run at start-up; scripts are idempotent (create … if not exists).</summary>
public interface IDatabaseSchema
{
    string Sql { get; }
}

public static class PostgresExtensions
{
    /// <summary>
    /// Aspire.Npgsql's <see cref="NpgsqlDataSource"/> for ConnectionStrings:{database} (with its health check, traces and
    /// metrics), and the service's schema scripts run once at start. A command is traced only inside a trace: the
    /// pollers (outbox, version publishers) would otherwise start a trace of one query every second.
    /// </summary>
    public static TBuilder AddPostgres<TBuilder>(this TBuilder builder, string database) where TBuilder : IHostApplicationBuilder
    {
        builder.Configuration.RequiredConnectionString(database); // named now, not at first use
        builder.AddNpgsqlDataSource(database, configureDataSourceBuilder: data =>
        {
            // a statement run five times is prepared on its connection: PostgreSQL skips parsing and planning it again
            // (every query's text is built from the schema and its values are parameters, so the same read repeats)
            data.ConnectionStringBuilder.MaxAutoPrepare = 256;
            data.ConfigureTracing(tracing => tracing
                .ConfigureCommandFilter(_ => System.Diagnostics.Activity.Current is not null)
                .ConfigureBatchFilter(_ => System.Diagnostics.Activity.Current is not null));
        });
        builder.Services.AddHostedService<SchemaInitializer>();
        return builder;
    }
}

/// <summary>Runs every registered schema script once, before the service takes requests.</summary>
internal sealed class SchemaInitializer(NpgsqlDataSource dataSource, IEnumerable<IDatabaseSchema> schemas)
    : Microsoft.Extensions.Hosting.IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // Several replicas may start at once: one advisory lock serialises their schema scripts.
        await using (var lockCmd = new NpgsqlCommand("select pg_advisory_lock(4242)", connection))
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            foreach (var schema in schemas)
            {
                await using var cmd = new NpgsqlCommand(schema.Sql, connection);
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(4242)", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
