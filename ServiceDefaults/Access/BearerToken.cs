using System.Security.Cryptography;
using System.Text;
using AiAssistant.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>
/// The walking skeleton's identities: the static admin token (ADMIN_TOKEN) for people and the service credential
/// (Internal:Token) for service-to-service calls. Identity and access (users, JWTs) replace the first.
/// </summary>
public sealed class BearerTokens(IConfiguration configuration)
{
    private readonly byte[]? _admin = Bytes(configuration["ADMIN_TOKEN"]);
    private readonly byte[]? _internal = Bytes(configuration["Internal:Token"]);

    public string? InternalToken { get; } = configuration["Internal:Token"];

    /// <summary>401 unless the request carries the admin token.</summary>
    public void RequireAdmin(HttpContext context)
    {
        var presented = Presented(context.Request.Headers.Authorization.ToString());
        if (presented is null)
            throw DirectusException.Unauthenticated("No access token was sent. Send 'Authorization: Bearer <token>'.");
        if (_admin is null || !Equal(presented, _admin))
            throw DirectusException.Unauthenticated("Invalid user credentials.");
    }

    /// <summary>True when the headers carry the service credential (constant-time compare).</summary>
    public bool IsInternal(string? authorizationHeader)
    {
        var presented = Presented(authorizationHeader);
        return presented is not null && _internal is not null && Equal(presented, _internal);
    }

    public bool IsAdmin(string? authorizationHeader)
    {
        var presented = Presented(authorizationHeader);
        return presented is not null && _admin is not null && Equal(presented, _admin);
    }

    private static byte[]? Presented(string? header)
    {
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        var token = header.AsSpan(7).Trim();
        return token.IsEmpty ? null : Encoding.UTF8.GetBytes(token.ToArray());
    }

    private static bool Equal(byte[] a, byte[] b) => CryptographicOperations.FixedTimeEquals(a, b);

    private static byte[]? Bytes(string? s) => string.IsNullOrEmpty(s) ? null : Encoding.UTF8.GetBytes(s);
}
