using AiAssistant.ServiceDefaults.Data;

namespace AiAssistant.Services.Tools.Content.Schema;

/// <summary>
/// The system tables of the CMS schema, Directus's <c>directus_collections</c>, <c>directus_fields</c> and
/// <c>directus_relations</c>. They hold the meta only: a field's <c>schema</c> (data type, default, nullable, unique,
/// key, length) and a relation's <c>on_delete</c> are read back from PostgreSQL's catalog, so they can never disagree
/// with the real column and constraint; a collection without a table is a folder.
/// <c>content_schema_version</c> orders every change: a change locks its row, so schema changes run one at a time.
/// </summary>
public sealed class SchemaTables : IDatabaseSchema
{
    public string Sql => """
        create table if not exists content_collections (
            collection text primary key,
            note text,
            hidden boolean not null default false,
            singleton boolean not null default false,
            icon text,
            sort integer,
            "group" text
        );
        alter table content_collections add column if not exists icon text;
        alter table content_collections add column if not exists sort integer;
        alter table content_collections add column if not exists "group" text;
        alter table content_collections drop column if exists created_at;
        create table if not exists content_fields (
            id bigserial primary key,
            collection text not null,
            field text not null,
            type text not null,
            special text[],
            interface text,
            options jsonb,
            display text,
            display_options jsonb,
            readonly boolean not null default false,
            hidden boolean not null default false,
            required boolean not null default false,
            note text,
            sort integer,
            width text,
            validation jsonb,
            unique (collection, field)
        );
        create table if not exists content_relations (
            id bigserial primary key,
            many_collection text not null,
            many_field text not null,
            one_collection text,
            one_field text,
            junction_field text,
            sort_field text,
            one_deselect_action text not null default 'nullify',
            unique (many_collection, many_field)
        );
        create table if not exists content_schema_version (
            id int primary key check (id = 1),
            version bigint not null
        );
        insert into content_schema_version (id, version) values (1, 1) on conflict (id) do nothing;
        """;
}
