using System.Security.Cryptography;
using System.Text;
using AiAssistant.ServiceDefaults.Grpc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>
/// The service credential (Internal:Token) for service-to-service calls. People are identified by
/// <see cref="CallerResolver"/>.
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

    /// <summary>The one check of every internal gRPC method: PermissionDenied unless the call carries the service credential.</summary>
    public static void RequireInternal(GrpcCallContext call)
    {
        if (!call.HttpContext.RequestServices.GetRequiredService<BearerTokens>().IsInternal(call.RequestHeaders.Authorization))
            throw new GrpcException(GrpcStatusCode.PermissionDenied, $"{call.HttpContext.Request.Path} is for internal services only.");
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
