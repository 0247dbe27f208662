using AiAssistant.ServiceDefaults.Data;

namespace AiAssistant.Services.Chat.Usage;

/// <summary>The usage ledger in Chat's database: one row per turn a provider was asked to answer.</summary>
public sealed class UsageTables : IDatabaseSchema
{
    public const string Usage = "ai_usage";

    /// <summary>How a turn ended: answered, a provider or service error, or the browser stopped it.</summary>
    public static readonly string[] Outcomes = ["ok", "error", "stopped"];

    /// <summary>Which endpoint the turn came through.</summary>
    public static readonly string[] Endpoints = ["chat", "object"];

    public string Sql => """
        create table if not exists ai_usage (
            id bigserial primary key,
            timestamp timestamptz not null,
            "user" uuid not null,
            role uuid,
            endpoint text not null check (endpoint in ('chat', 'object')),
            provider text not null,
            model text not null,
            input_tokens bigint not null,
            output_tokens bigint not null,
            total_tokens bigint not null,
            cache_read_tokens bigint not null,
            cache_creation_tokens bigint,
            cost numeric(24, 12) not null,
            outcome text not null check (outcome in ('ok', 'error', 'stopped'))
        );
        create index if not exists ai_usage_timestamp on ai_usage (timestamp);
        create index if not exists ai_usage_user_timestamp on ai_usage ("user", timestamp);
        """;
}
