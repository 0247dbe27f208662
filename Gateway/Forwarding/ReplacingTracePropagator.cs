using System.Diagnostics;

namespace AiAssistant.Gateway.Forwarding;

/// <summary>
/// The forwarder copies the client's traceparent/tracestate/baggage on. When the gateway traces the call, this
/// replaces them with the gateway's own span context, so the upstream's span hangs under the gateway's rather than
/// skipping it; when it does not, the client's headers flow through untouched.
/// </summary>
internal sealed class ReplacingTracePropagator(DistributedContextPropagator inner) : DistributedContextPropagator
{
    private readonly string[] _fields = [.. inner.Fields];

    public override IReadOnlyCollection<string> Fields => _fields;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (carrier is HttpRequestMessage request)
            foreach (var field in _fields) request.Headers.Remove(field);
        inner.Inject(activity, carrier, setter);
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState) =>
        inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
        inner.ExtractBaggage(carrier, getter);
}
