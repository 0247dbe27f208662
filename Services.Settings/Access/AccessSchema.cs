using AiAssistant.ServiceDefaults.Data;

namespace AiAssistant.Services.Settings.Access;

/// <summary>
/// Directus's access model in the settings database: users → role → policies → permissions, plus policies linked to a
/// user directly, the built-in Public policy, refresh-token sessions and the access version sequence.
/// </summary>
public sealed class AccessSchema : IDatabaseSchema
{
    /// <summary>Directus's id of the Public policy, so its clients recognise it.</summary>
    public const string PublicPolicyId = "abf8a154-5b1c-4a46-ac9c-7300570f4f17";

    public string Sql => $"""
        create table if not exists access_policies (
            id uuid primary key,
            name text not null,
            icon text not null default 'badge',
            description text,
            admin_access boolean not null default false,
            app_access boolean not null default false,
            enforce_tfa boolean not null default false,
            created_at timestamptz not null default now()
        );
        insert into access_policies (id, name, icon, description)
        values ('{PublicPolicyId}', '$t:public_label', 'public', '$t:public_description') on conflict (id) do nothing;
        create table if not exists access_roles (
            id uuid primary key,
            name text not null,
            icon text not null default 'supervised_user_circle',
            description text,
            created_at timestamptz not null default now()
        );
        create table if not exists access_users (
            id uuid primary key,
            email text not null,
            password_hash text,
            first_name text,
            last_name text,
            status text not null default 'active',
            role uuid references access_roles (id) on delete set null,
            token_sha256 text unique,
            bootstrap boolean not null default false,
            last_access timestamptz,
            created_at timestamptz not null default now()
        );
        create unique index if not exists access_users_email on access_users (lower(email));
        create table if not exists access_links (
            id uuid primary key,
            policy uuid not null references access_policies (id) on delete cascade,
            role uuid references access_roles (id) on delete cascade,
            "user" uuid references access_users (id) on delete cascade,
            sort int,
            check ((role is null) <> ("user" is null))
        );
        create index if not exists access_links_role on access_links (role);
        create index if not exists access_links_user on access_links ("user");
        create table if not exists access_permissions (
            id bigserial primary key,
            policy uuid not null references access_policies (id) on delete cascade,
            collection text not null,
            action text not null check (action in ('create', 'read', 'update', 'delete')),
            fields text[],
            permissions jsonb,
            validation jsonb,
            presets jsonb
        );
        create index if not exists access_permissions_policy on access_permissions (policy);
        create table if not exists auth_sessions (
            token_sha256 text primary key,
            user_id uuid not null references access_users (id) on delete cascade,
            family uuid not null,
            expires_at timestamptz not null,
            used_at timestamptz,
            revoked_at timestamptz,
            created_at timestamptz not null default now()
        );
        create index if not exists auth_sessions_family on auth_sessions (family);
        create index if not exists auth_sessions_user on auth_sessions (user_id);
        create sequence if not exists access_version;
        """;
}
