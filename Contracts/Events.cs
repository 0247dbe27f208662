namespace AiAssistant.Contracts;

/// <summary>Published after every committed settings change. Never carries a value, only names.</summary>
public sealed record AiSettingsChanged(long Version, IReadOnlyList<string> Fields, DateTimeOffset ChangedAt);

/// <summary>
/// Published after every committed change to who may do what: a user's role, policies, status or static token; a
/// role's policies; a policy's flags or permissions. Carries ids only, never a password, hash or token.
/// </summary>
public sealed record AccessChanged(long Version, string Subject, IReadOnlyList<string> UserIds, DateTimeOffset ChangedAt);

/// <summary>
/// Published after every committed change to the CMS schema (collections, fields, relations): every replica of the
/// content store reloads its schema snapshot when <see cref="Version"/> is newer than its own.
/// </summary>
public sealed record SchemaChanged(long Version, string Collection, DateTimeOffset ChangedAt);

/// <summary>
/// Published after a committed write to items of a collection some active <c>event</c> flow listens to
/// (<c>items.create</c>, <c>items.update</c>, <c>items.delete</c>): the keys written and who wrote them, never the
/// values. One Tools replica consumes it (a shared queue) and runs each flow once per <see cref="EventId"/>.
/// </summary>
public sealed record ItemsChanged(Guid EventId, string Action, string Collection, IReadOnlyList<string> Keys, string? UserId, string? RoleId,
    bool Admin, bool App, DateTimeOffset ChangedAt);
