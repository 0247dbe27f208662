using AiAssistant.ServiceDefaults.Data;
using AiAssistant.Services.Tools.Content.Schema;

namespace AiAssistant.Services.Tools.Audit;

/// <summary>
/// <c>ai_tool_calls</c>: one row per tool call from chat or MCP — who, when, which tool, action, collection and keys,
/// the outcome and how long it took; never a payload, a result or a secret. A real table of the content database and
/// a read-only system collection of every schema snapshot (<see cref="SchemaReader"/> adds <see cref="Collections"/>),
/// so <c>GET /ai/tool-calls</c> (<see cref="ToolCallsApi"/>) is the items read with the whole query language.
/// Only <see cref="ToolCallAudit"/> writes it: <c>/items/ai_tool_calls</c> is 403 and every field is read-only.
/// </summary>
public sealed class ToolCallTables : IDatabaseSchema
{
    public const string ToolCalls = "ai_tool_calls";

    /// <summary>What a call ended as.</summary>
    public static readonly string[] Outcomes = ["ok", "error", "approval_requested", "denied"];
    public static readonly string[] Surfaces = ["chat", "mcp"];

    public string Sql => """
        create table if not exists ai_tool_calls (
            id bigserial primary key,
            timestamp timestamptz not null,
            "user" uuid,
            surface text not null check (surface in ('chat', 'mcp')),
            tool text not null,
            action text,
            collection text,
            keys jsonb,
            outcome text not null check (outcome in ('ok', 'error', 'approval_requested', 'denied')),
            error_code text,
            duration_ms double precision not null
        );
        create index if not exists ai_tool_calls_timestamp on ai_tool_calls (timestamp);
        """;

    public static readonly IReadOnlyList<CollectionSchema> Collections =
    [
        new(ToolCalls, "id", new (string Field, string Type, string? Special)[]
            {
                ("id", "bigInteger", null), ("timestamp", "timestamp", null), ("user", "uuid", null), ("surface", "string", null),
                ("tool", "string", null), ("action", "string", null), ("collection", "string", null), ("keys", "json", "cast-json"),
                ("outcome", "string", null), ("error_code", "string", null), ("duration_ms", "float", null),
            }.ToDictionary(f => f.Field, f => new FieldSchema(ToolCalls, f.Field, f.Type, IsPrimaryKey: f.Field == "id",
                Nullable: f.Field is "user" or "action" or "collection" or "keys" or "error_code", Unique: f.Field == "id",
                AutoIncrement: f.Field == "id", Indexed: f.Field == "timestamp",
                Meta: new FieldMeta(Special: f.Special is null ? [] : [f.Special], Readonly: true))),
            new CollectionMeta(Note: "Tool calls from chat and MCP (system collection, /ai/tool-calls)", System: true)),
    ];
}
