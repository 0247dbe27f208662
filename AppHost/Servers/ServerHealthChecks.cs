using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiAssistant.AppHost.Servers;

/// <summary>Readiness checks for the servers: each asks the server a question only a ready server answers.</summary>
internal static class ServerHealthChecks
{
    /// <summary>Adds a health check named after the resource and makes WaitFor wait for it.</summary>
    public static IResourceBuilder<T> WithReadinessCheck<T>(this IResourceBuilder<T> builder, Func<CancellationToken, Task<string?>> probe)
        where T : IResource
    {
        var key = $"{builder.Resource.Name}-ready";
        builder.ApplicationBuilder.Services.AddHealthChecks().AddAsyncCheck(key, async ct =>
        {
            try
            {
                var problem = await probe(ct).ConfigureAwait(false);
                return problem is null ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(problem);
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException or InvalidOperationException or Npgsql.NpgsqlException)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        });
        return builder.WithHealthCheck(key);
    }

    /// <summary>Sends <paramref name="request"/> to 127.0.0.1:<paramref name="port"/> and returns the first bytes of the answer.</summary>
    public static async Task<byte[]> ExchangeAsync(int port, byte[] request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, timeout.Token).ConfigureAwait(false);
        var stream = client.GetStream();
        await stream.WriteAsync(request, timeout.Token).ConfigureAwait(false);
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
        return buffer[..read];
    }
}
