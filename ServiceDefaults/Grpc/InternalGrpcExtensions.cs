using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AiAssistant.ServiceDefaults.Grpc;

/// <summary>
/// Internal gRPC, both ends: servers behind <see cref="ServiceCredentialInterceptor"/> with grpc.health.v1, and
/// clients (Grpc.Net.ClientFactory) with the service credential, a deadline on every call and retries while the peer
/// cannot be reached. The server needs an HTTP/2-only endpoint without TLS (h2c), e.g.
/// <c>Kestrel__Endpoints__grpc__Url=http://127.0.0.1:5101</c> and <c>Kestrel__Endpoints__grpc__Protocols=Http2</c>.
/// </summary>
public static class InternalGrpcExtensions
{
    /// <summary>
    /// Retried while the call ends Unavailable before any response arrived: the peer is starting, restarting, or
    /// refused the stream (gRPC only retries calls not yet committed). The call's deadline bounds every attempt.
    /// </summary>
    private static ServiceConfig RetryWhileUnavailable() => new()
    {
        MethodConfigs =
        {
            new MethodConfig
            {
                Names = { MethodName.Default },
                RetryPolicy = new RetryPolicy
                {
                    MaxAttempts = 4,
                    InitialBackoff = TimeSpan.FromMilliseconds(100),
                    MaxBackoff = TimeSpan.FromSeconds(1),
                    BackoffMultiplier = 2,
                    RetryableStatusCodes = { StatusCode.Unavailable },
                },
            },
        },
    };

    /// <summary><c>AddGrpc()</c> with the service-credential check on every method, and grpc.health.v1 over the health checks.</summary>
    public static WebApplicationBuilder AddInternalGrpc(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpc(o => o.Interceptors.Add<ServiceCredentialInterceptor>());
        builder.Services.AddGrpcHealthChecks();
        return builder;
    }

    /// <summary>
    /// A generated client of <paramref name="service"/>, at <c>services:{service}:grpc:0</c>. Every call carries the
    /// service credential and, unless the caller sets one, the deadline <paramref name="deadline"/> from its start;
    /// cancelling the caller's token throws <see cref="OperationCanceledException"/>, everything else <see cref="RpcException"/>.
    /// </summary>
    public static IHttpClientBuilder AddInternalGrpcClient<TClient>(this IServiceCollection services, string service, TimeSpan deadline)
        where TClient : class =>
        services
            .AddGrpcClient<TClient>((sp, o) => o.Address = sp.GetRequiredService<IConfiguration>().ServiceUri(service, "grpc"))
            .ConfigureChannel(o => o.ServiceConfig = RetryWhileUnavailable())
            .AddInterceptor(sp => new ServiceCredentialClientInterceptor(sp.GetRequiredService<IConfiguration>()["Internal:Token"], deadline))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // h2c to one peer: more than one connection under load, and a dead idle connection noticed early.
                EnableMultipleHttp2Connections = true,
                UseProxy = false,
                UseCookies = false,
                AllowAutoRedirect = false,
                ConnectTimeout = TimeSpan.FromSeconds(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            });
}
