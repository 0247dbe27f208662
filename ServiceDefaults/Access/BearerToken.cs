using System.Security.Cryptography;
using System.Text;
using AiAssistant.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>
/// The service credential (Internal:Token) for service-to-service calls. People are identified by
/// <see cref="CallerResolver"/>; <see cref="RequireAdmin"/> stays for the endpoints that still call it.
/// </summary>
public sealed class BearerTokens(IConfiguration configuration)
{
    private readonly byte[]? _internal = Bytes(configuration["Internal:Token"]);

    public string? InternalToken { get; } = configuration["Internal:Token"];

    /// <summary>401 without a token, 403 unless the caller is an admin (see <see cref="CallerAccess.RequireAdmin"/>).</summary>
    public void RequireAdmin(HttpContext context) => context.RequireAdmin();

    /// <summary>True when the headers carry the service credential (constant-time compare).</summary>
    public bool IsInternal(string? authorizationHeader)
    {
        var presented = Presented(authorizationHeader);
        return presented is not null && _internal is not null && Equal(presented, _internal);
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
