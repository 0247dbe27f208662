using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace AiAssistant.ServiceDefaults.Access;

public enum AccessTokenStatus { Valid, Expired, Invalid }

/// <summary>The result of checking a JWT: its user when valid.</summary>
public readonly record struct VerifiedAccessToken(AccessTokenStatus Status, string? UserId);

/// <summary>
/// Short-lived access tokens: JWTs signed with HS256 under <c>Auth:JwtKey</c> (base64, at least 32 bytes), which every
/// service holds and so verifies locally. Claims follow Directus (<c>id</c>, <c>role</c>, <c>app_access</c>,
/// <c>admin_access</c>, <c>iat</c>, <c>exp</c>, <c>iss</c>); services still look the user up (cached) for what they may do.
/// </summary>
public sealed class AccessTokens
{
    public const string Issuer = "aiassistant";
    private const string HeaderJson = """{"alg":"HS256","typ":"JWT"}""";
    private static readonly byte[] Header = Encoding.UTF8.GetBytes(Base64Url.EncodeToString(Encoding.UTF8.GetBytes(HeaderJson)));

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public TimeSpan Lifetime { get; }

    public AccessTokens(byte[] key, TimeSpan lifetime, TimeProvider time)
    {
        if (key.Length < 32) throw new ArgumentException("The JWT signing key must be at least 32 bytes.", nameof(key));
        _key = key;
        Lifetime = lifetime;
        _time = time;
    }

    public static AccessTokens FromConfiguration(IConfiguration configuration, TimeProvider time, ILogger logger)
    {
        var lifetime = TimeSpan.FromMinutes(15);
        if (configuration["Auth:AccessTokenTtl"] is { Length: > 0 } ttl)
            lifetime = TimeSpan.TryParse(ttl, System.Globalization.CultureInfo.InvariantCulture, out var t) && t > TimeSpan.Zero
                ? t : throw new SettingException("Auth:AccessTokenTtl (environment Auth__AccessTokenTtl) must be a positive time span such as 00:15:00.");
        return new AccessTokens(SigningKey(configuration, logger), lifetime, time);
    }

    /// <summary>
    /// <c>Auth:JwtKey</c> (base64 of at least 32 random bytes). When none is configured, a key is derived with
    /// HKDF-SHA256 from the service credential (<c>Internal:Token</c>, 32 random bytes the AppHost generates), which every
    /// service already holds; nothing weaker is accepted.
    /// </summary>
    public static byte[] SigningKey(IConfiguration configuration, ILogger logger)
    {
        if (configuration["Auth:JwtKey"] is { Length: > 0 } configured)
        {
            byte[] key;
            try { key = Convert.FromBase64String(configured); }
            catch (FormatException) { throw new SettingException("Auth:JwtKey (environment Auth__JwtKey) must be base64 of at least 32 random bytes."); }
            if (key.Length < 32) throw new SettingException("Auth:JwtKey (environment Auth__JwtKey) must be base64 of at least 32 random bytes.");
            return key;
        }
        if (configuration["Internal:Token"] is { Length: >= 32 } credential)
        {
            logger.LogWarning("Auth:JwtKey is not set: deriving the access-token signing key from the service credential. Set Auth__JwtKey (base64, 32 bytes).");
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(credential), 32,
                salt: Encoding.UTF8.GetBytes("aiassistant"), info: Encoding.UTF8.GetBytes("access-token-signing-key"));
        }
        throw new SettingException(
            "Missing Auth:JwtKey (environment Auth__JwtKey): base64 of at least 32 random bytes, the same for every service; it signs and verifies access tokens.");
    }

    public (string Token, DateTimeOffset Expires) Issue(CallerIdentity caller, string? session = null)
    {
        var now = _time.GetUtcNow();
        var expires = now + Lifetime;
        var payload = new MemoryStream();
        using (var json = new Utf8JsonWriter(payload))
        {
            json.WriteStartObject();
            json.WriteString("id", caller.UserId);
            if (caller.RoleId is null) json.WriteNull("role"); else json.WriteString("role", caller.RoleId);
            json.WriteBoolean("app_access", caller.App);
            json.WriteBoolean("admin_access", caller.Admin);
            if (session is not null) json.WriteString("session", session);
            json.WriteNumber("iat", now.ToUnixTimeSeconds());
            json.WriteNumber("exp", expires.ToUnixTimeSeconds());
            json.WriteString("iss", Issuer);
            json.WriteEndObject();
        }
        var signingInput = new StringBuilder(Encoding.ASCII.GetString(Header)).Append('.')
            .Append(Base64Url.EncodeToString(payload.ToArray())).ToString();
        var signature = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(signingInput));
        return ($"{signingInput}.{Base64Url.EncodeToString(signature)}", DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()));
    }

    /// <summary>Whether a string has a JWT's shape (three base64url parts); static tokens are anything else.</summary>
    public static bool LooksLikeJwt(string token) =>
        token.StartsWith("eyJ", StringComparison.Ordinal) && token.Count(c => c == '.') == 2;

    public VerifiedAccessToken Verify(string token)
    {
        var firstDot = token.IndexOf('.');
        var lastDot = token.LastIndexOf('.');
        if (firstDot <= 0 || lastDot == firstDot || lastDot == token.Length - 1) return new(AccessTokenStatus.Invalid, null);
        try
        {
            // Only HS256 under our key: the header is compared whole, so "alg":"none" and friends never get further.
            if (!token.AsSpan(0, firstDot).SequenceEqual(Encoding.ASCII.GetString(Header))) return new(AccessTokenStatus.Invalid, null);
            Span<byte> expected = stackalloc byte[32];
            HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(token, 0, lastDot), expected);
            var presented = Base64Url.DecodeFromChars(token.AsSpan(lastDot + 1));
            if (!CryptographicOperations.FixedTimeEquals(expected, presented)) return new(AccessTokenStatus.Invalid, null);

            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(token.AsSpan(firstDot + 1, lastDot - firstDot - 1)));
            var root = payload.RootElement;
            if (!root.TryGetProperty("iss", out var iss) || iss.ValueKind != JsonValueKind.String || iss.GetString() != Issuer
                || !root.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("exp", out var exp) || !exp.TryGetInt64(out var expSeconds))
                return new(AccessTokenStatus.Invalid, null);
            if (_time.GetUtcNow().ToUnixTimeSeconds() >= expSeconds) return new(AccessTokenStatus.Expired, id.GetString());
            return new(AccessTokenStatus.Valid, id.GetString());
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return new(AccessTokenStatus.Invalid, null);
        }
    }
}
