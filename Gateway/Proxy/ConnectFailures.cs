using System.Net.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace AiAssistant.Gateway.Proxy;

/// <summary>
/// What the gateway does when a destination cannot be connected to (refused, reset or timed out while connecting):
/// the request never reached the service, so it is sent once more to another destination, and the destination is
/// taken out of rotation at once (<see cref="ConnectFailureHealthPolicy"/>) instead of after the next active probe.
/// Nothing is retried once a byte of the request body was read, nor after the response started.
/// </summary>
public sealed class ConnectFailures(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var body = new ReadTrackingStream(context.Request.Body);
        context.Request.Body = body;
        await next(context);

        var proxy = context.GetReverseProxyFeature();
        if (!IsConnectFailure(context) || body.Started || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested
            || proxy.ProxiedDestination is not { } failed)
            return;
        // another destination: a healthy one if there is one (the failed one was just marked unhealthy)
        var others = proxy.AllDestinations.Where(d => d != failed).ToList();
        if (others.Count == 0) return;
        var healthy = others.Where(d => d.Health.Active != DestinationHealth.Unhealthy && d.Health.Passive != DestinationHealth.Unhealthy).ToList();
        var candidates = healthy.Count > 0 ? healthy : others;

        context.Features.Set<IForwarderErrorFeature>(null);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.Clear();
        proxy.AvailableDestinations = [candidates[Random.Shared.Next(candidates.Count)]];
        await next(context);
    }

    /// <summary>The forward failed while connecting: the service saw nothing of this request.</summary>
    public static bool IsConnectFailure(HttpContext context) =>
        context.GetForwarderErrorFeature() is { Error: ForwarderError.Request, Exception: { } exception }
        && Inner(exception).OfType<HttpRequestException>().Any(e => e.HttpRequestError == HttpRequestError.ConnectionError);

    private static IEnumerable<Exception> Inner(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException) yield return e;
    }

    /// <summary>The request body as it was, noting whether anything read from it.</summary>
    private sealed class ReadTrackingStream(Stream inner) : Stream
    {
        public bool Started { get; private set; }
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) { Started = true; return inner.Read(buffer, offset, count); }
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Started = true;
            return inner.ReadAsync(buffer, cancellationToken);
        }
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
        {
            Started = true;
            return inner.CopyToAsync(destination, bufferSize, cancellationToken);
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>
/// The clusters' passive health policy <c>ConnectFailure</c>: a destination that could not be connected to is
/// unhealthy for the cluster's <c>ReactivationPeriod</c> (2 s by default); the active probe of <c>/health</c>
/// decides after that. (YARP's own <c>TransportFailureRate</c> waits for a failure rate over a window.)
/// </summary>
public sealed class ConnectFailureHealthPolicy(IDestinationHealthUpdater health) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "ConnectFailure";
    private static readonly TimeSpan DefaultReactivation = TimeSpan.FromSeconds(2);

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        if (ConnectFailures.IsConnectFailure(context))
            health.SetPassive(cluster, destination, DestinationHealth.Unhealthy,
                cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? DefaultReactivation);
    }
}
