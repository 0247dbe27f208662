namespace AiAssistant.Contracts;

/// <summary>Resource names spelled once: the AppHost, the services and the tests use these.</summary>
public static class ResourceNames
{
    public const string Postgres = "postgres";
    public const string Redis = "redis";
    public const string RabbitMq = "rabbitmq";
    public const string Settings = "settings";
    public const string Chat = "chat";
    public const string Tools = "tools";
    public const string Gateway = "gateway";

    /// <summary>Database resources (their connection strings: <c>ConnectionStrings__settingsdb</c>, …); the
    /// databases themselves are called settings, chat and content.</summary>
    public const string SettingsDatabase = "settingsdb";
    public const string ChatDatabase = "chatdb";
    public const string ContentDatabase = "contentdb";

    /// <summary>Redis key holding the newest committed AI settings version.</summary>
    public const string SettingsVersionKey = "ai:settings:version";

    /// <summary>Redis key holding the newest committed CMS schema version (content store).</summary>
    public const string SchemaVersionKey = "content:schema:version";
}
