using AiAssistant.ServiceDefaults.Access;
using AiAssistant.ServiceDefaults.Errors;
using Npgsql;
using NpgsqlTypes;

namespace AiAssistant.Services.Chat.Usage;

/// <summary>
/// <c>GET /ai/usage</c>: the ledger's totals, one row per user, provider and model, and their sum in
/// <c>meta.totals</c>. A user with app access sees their own; an admin everyone's. Filters: <see cref="UsageQuery"/>.
/// </summary>
public static class UsageApi
{
    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/ai/usage", Usage).WithName("Usage");
        return app;
    }

    private static async Task<IResult> Usage(HttpContext context, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var caller = context.RequireApp();
        var query = UsageQuery.Parse(context.Request.Query);
        if (!caller.Admin)
        {
            // a user reads only their own: naming someone else is refused, naming nobody means oneself
            var self = Guid.TryParse(caller.UserId, out var id) ? id : throw DirectusException.Forbidden();
            if (query.User is { } other && other != self) throw DirectusException.Forbidden("Only admins can read other users' usage");
            query = query with { User = self };
        }

        await using var cmd = dataSource.CreateCommand("""
            select "user", provider, model, count(*), sum(input_tokens), sum(output_tokens), sum(total_tokens),
                   sum(cache_read_tokens), sum(cache_creation_tokens), sum(cost), min(timestamp), max(timestamp)
            from ai_usage
            where ($1::uuid is null or "user" = $1) and ($2::text is null or provider = $2) and ($3::text is null or model = $3)
              and ($4::timestamptz is null or timestamp >= $4) and ($5::timestamptz is null or timestamp < $5)
            group by "user", provider, model
            order by "user", provider, model
            """);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)query.User ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Provider ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)query.Model ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)query.From ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)query.To ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });

        var rows = new List<UsageTotals>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                rows.Add(new UsageTotals(reader.GetGuid(0).ToString(), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                    reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7),
                    reader.IsDBNull(8) ? 0 : reader.GetInt64(8), reader.GetDecimal(9),
                    reader.GetFieldValue<DateTimeOffset>(10), reader.GetFieldValue<DateTimeOffset>(11)));

        return TypedResults.Json(new
        {
            data = rows,
            meta = new
            {
                totals = new
                {
                    requests = rows.Sum(r => r.Requests),
                    inputTokens = rows.Sum(r => r.InputTokens),
                    outputTokens = rows.Sum(r => r.OutputTokens),
                    totalTokens = rows.Sum(r => r.TotalTokens),
                    cacheReadTokens = rows.Sum(r => r.CacheReadTokens),
                    cacheCreationTokens = rows.Sum(r => r.CacheCreationTokens),
                    cost = rows.Sum(r => r.Cost),
                },
                filter = new { user = query.User, provider = query.Provider, model = query.Model, from = query.From, to = query.To },
            },
        });
    }

    /// <summary>One user's use of one model: turns, the provider's token figures added up, the cost in USD, first and last turn.</summary>
    public sealed record UsageTotals(string User, string Provider, string Model, long Requests, long InputTokens, long OutputTokens,
        long TotalTokens, long CacheReadTokens, long CacheCreationTokens, decimal Cost, DateTimeOffset First, DateTimeOffset Last);
}

public static class UsageExtensions
{
    /// <summary>The <c>ai_usage</c> ledger, its one writer, and the per-user limits it feeds.</summary>
    public static WebApplicationBuilder AddUsageLedger(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AiAssistant.ServiceDefaults.Data.IDatabaseSchema, UsageTables>();
        builder.Services.AddSingleton<UsageLimiter>();
        builder.Services.AddSingleton<UsageLedger>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UsageLedger>());
        return builder;
    }
}
