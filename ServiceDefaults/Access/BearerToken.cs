using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>
/// The service credential (Internal:Token) for service-to-service calls. People are identified by
/// <see cref="CallerResolver"/>. gRPC servers check it in <see cref="Grpc.ServiceCredentialInterceptor"/>.
/// </summary>
public sealed class BearerTokens(IConfiguration configuration)
{
    private readonly byte[]? _internal = Bytes(configuration["Internal:Token"]);

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
