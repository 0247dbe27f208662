using System.Buffers.Text;
using System.Text;
using AiAssistant.ServiceDefaults.Access;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AiAssistant.Tests.Access;

public sealed class AccessTokensTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly CallerIdentity Ada = new("0197a1b2-0000-7000-8000-000000000001", "0197a1b2-0000-7000-8000-000000000002", false, true);

    [Fact]
    public void A_token_is_valid_until_it_expires_then_expired()
    {
        var clock = new Clock(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var tokens = new AccessTokens(Key, TimeSpan.FromMinutes(15), clock);
        var (token, expires) = tokens.Issue(Ada);
        Assert.Equal(clock.Now.AddMinutes(15), expires);
        Assert.Equal(new VerifiedAccessToken(AccessTokenStatus.Valid, Ada.UserId), tokens.Verify(token));
        clock.Now = clock.Now.AddMinutes(15).AddSeconds(-1);
        Assert.Equal(AccessTokenStatus.Valid, tokens.Verify(token).Status);
        clock.Now = clock.Now.AddSeconds(1);
        Assert.Equal(AccessTokenStatus.Expired, tokens.Verify(token).Status);
    }

    [Fact]
    public void Tampered_foreign_and_unsigned_tokens_are_invalid()
    {
        var clock = new Clock(DateTimeOffset.UtcNow);
        var tokens = new AccessTokens(Key, TimeSpan.FromMinutes(15), clock);
        var (token, _) = tokens.Issue(Ada);
        var parts = token.Split('.');

        var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("\"admin_access\":false", "\"admin_access\":true");
        Assert.Equal(AccessTokenStatus.Invalid, tokens.Verify($"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload))}.{parts[2]}").Status);
        var none = Base64Url.EncodeToString("""{"alg":"none","typ":"JWT"}"""u8);
        Assert.Equal(AccessTokenStatus.Invalid, tokens.Verify($"{none}.{parts[1]}.").Status);
        Assert.Equal(AccessTokenStatus.Invalid, tokens.Verify($"{none}.{parts[1]}.{parts[2]}").Status);
        var other = new AccessTokens(Enumerable.Repeat((byte)7, 32).ToArray(), TimeSpan.FromMinutes(15), clock);
        Assert.Equal(AccessTokenStatus.Invalid, other.Verify(token).Status);
        Assert.Equal(AccessTokenStatus.Invalid, tokens.Verify("eyJ.x.y").Status);
        Assert.Equal(AccessTokenStatus.Invalid, tokens.Verify(token + "A").Status);
    }

    [Fact]
    public void The_signing_key_comes_from_configuration_and_nothing_weak_is_accepted()
    {
        IConfiguration Config(params (string, string)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(v => v.Item1, v => (string?)v.Item2)).Build();

        var configured = Convert.ToBase64String(Key);
        Assert.Equal(Key, AccessTokens.SigningKey(Config(("Auth:JwtKey", configured)), NullLogger.Instance));
        Assert.Throws<AiAssistant.ServiceDefaults.SettingException>(() => AccessTokens.SigningKey(Config(("Auth:JwtKey", Convert.ToBase64String(new byte[16]))), NullLogger.Instance));
        Assert.Throws<AiAssistant.ServiceDefaults.SettingException>(() => AccessTokens.SigningKey(Config(("Auth:JwtKey", "not base64!")), NullLogger.Instance));
        Assert.Throws<AiAssistant.ServiceDefaults.SettingException>(() => AccessTokens.SigningKey(Config(("Internal:Token", "short")), NullLogger.Instance));
        Assert.Throws<AiAssistant.ServiceDefaults.SettingException>(() => AccessTokens.SigningKey(Config(), NullLogger.Instance));

        // Derived from the service credential: the same in every service, and not the credential itself.
        var credential = new string('a', 64);
        var derived = AccessTokens.SigningKey(Config(("Internal:Token", credential)), NullLogger.Instance);
        Assert.Equal(derived, AccessTokens.SigningKey(Config(("Internal:Token", credential)), NullLogger.Instance));
        Assert.Equal(32, derived.Length);
        Assert.NotEqual(Encoding.UTF8.GetBytes(credential)[..32], derived);
    }

    [Fact]
    public void Static_tokens_are_told_apart_from_jwts()
    {
        Assert.True(AccessTokens.LooksLikeJwt("eyJhbGciOi.eyJpZCI6.sig"));
        Assert.False(AccessTokens.LooksLikeJwt("admin-0123456789abcdef"));
        Assert.False(AccessTokens.LooksLikeJwt("eyJonly.one-dot"));
    }
}
