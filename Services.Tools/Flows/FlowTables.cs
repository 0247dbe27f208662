using AiAssistant.ServiceDefaults.Data;

namespace AiAssistant.Services.Tools.Flows;

/// <summary>
/// Directus's <c>directus_flows</c> and <c>directus_operations</c> as tables of the content database. Only
/// <see cref="FlowStore"/> writes them (admins, through <c>/flows</c>, <c>/operations</c> and the tools), so they are
/// not collections of the schema snapshot. An operation's <c>resolve</c> and <c>reject</c> each lead to at most one
/// parent (unique, as in Directus); the links are deferred so one transaction can create operations that point at
/// each other. A flow's runs are activity rows (<c>action = 'run'</c>) with a revision, as Directus records them. <c>directus_flow_event_runs</c> holds which flow ran for which event (see <see cref="FlowEvents"/>), <c>directus_flow_schedule_ticks</c> the
/// last tick a schedule flow was run for (see <see cref="FlowSchedules"/>).
/// </summary>
public sealed class FlowTables : IDatabaseSchema
{
    public const string Flows = "directus_flows";
    public const string Operations = "directus_operations";

    public string Sql => """
        create table if not exists directus_flows (
            id uuid primary key,
            name text not null,
            icon text,
            color text,
            description text,
            status text not null default 'active' check (status in ('active', 'inactive')),
            trigger text not null check (trigger in ('manual', 'webhook', 'event', 'schedule', 'operation')),
            accountability text default 'all' check (accountability in ('all', 'activity')),
            options jsonb not null default '{}',
            operation uuid,
            date_created timestamptz not null default now(),
            user_created uuid
        );
        create table if not exists directus_operations (
            id uuid primary key,
            name text,
            key text not null,
            type text not null,
            position_x integer not null,
            position_y integer not null,
            options jsonb not null default '{}',
            resolve uuid references directus_operations (id) on delete set null deferrable initially deferred,
            reject uuid references directus_operations (id) on delete set null deferrable initially deferred,
            flow uuid not null references directus_flows (id) on delete cascade,
            date_created timestamptz not null default now(),
            user_created uuid,
            constraint directus_operations_resolve_unique unique (resolve) deferrable initially deferred,
            constraint directus_operations_reject_unique unique (reject) deferrable initially deferred,
            constraint directus_operations_flow_key_unique unique (flow, key) deferrable initially deferred
        );
        create index if not exists directus_operations_flow on directus_operations (flow);
        create table if not exists directus_flow_event_runs (
            event uuid not null,
            flow uuid not null,
            ran_at timestamptz not null default now(),
            primary key (event, flow)
        );
        create table if not exists directus_flow_schedule_ticks (
            flow uuid primary key references directus_flows (id) on delete cascade,
            tick timestamptz not null
        );
        """;
}
