namespace AiAssistant.ServiceDefaults.Access;

/// <summary>Who is calling, as of now: the user, their role, and the two flags their policies add up to.</summary>
public sealed record CallerIdentity(string UserId, string? RoleId, bool Admin, bool App);

/// <summary>
/// A user's access as Settings knows it: status and the effective flags of their role's and their own policies.
/// This is what the caches hold (never a password, hash or token).
/// </summary>
public sealed record UserAccess(string Id, string? Role, bool Admin, bool App, string Status)
{
    public const string Active = "active";

    public bool IsActive => Status == Active;

    public CallerIdentity ToCaller() => new(Id, Role, Admin, App);
}

/// <summary>Where a service learns who a user is right now: Settings' database in Settings, gRPC to Settings elsewhere.</summary>
public interface IAccessDirectory
{
    Task<UserAccess?> FindUserAsync(string userId, CancellationToken ct);

    /// <summary>The owner of a static token, by the token's SHA-256 (hex): the token itself never leaves the caller.</summary>
    Task<UserAccess?> FindByStaticTokenAsync(string tokenSha256, CancellationToken ct);
}

/// <summary>Names spelled once: Redis keys and the error codes of authentication.</summary>
public static class AccessNames
{
    /// <summary>Redis key holding the newest access version; every change to users, roles or policies raises it.</summary>
    public const string VersionKey = "access:version";

    /// <summary>Redis key prefix of cached resolutions: <c>access:cache:{version}:{u|t}:{id or token hash}</c>.</summary>
    public const string CachePrefix = "access:cache:";

    public const string TokenExpired = "TOKEN_EXPIRED";
    public const string InvalidToken = "INVALID_TOKEN";
    public const string UserSuspended = "USER_SUSPENDED";
}
