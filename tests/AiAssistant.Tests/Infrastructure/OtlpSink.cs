using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiAssistant.Tests.Infrastructure;

/// <summary>
/// An OTLP/HTTP receiver for the app under test, standing where the dashboard stands under <c>./run.sh</c>: every
/// service exports its traces, metrics and logs here (http/protobuf), and each export is kept as it arrived, so a test
/// can search what left the services. Without it the services would export to a port nobody listens on and fail
/// (and throw) every second. Strings travel in protobuf as plain UTF-8, so a text search of the payloads is exact.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    /// <summary>What is kept at most; older payloads are dropped first (a long benchmark exports gigabytes).</summary>
    private const long KeptBytes = 256L * 1024 * 1024;

    private readonly WebApplication app;
    private readonly ConcurrentQueue<(string Signal, byte[] Body)> payloads = new();
    private long keptBytes;
    private long received;

    private OtlpSink(WebApplication app) => this.app = app;

    /// <summary>The base address to give as OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces and so on).</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>Export requests received so far, per signal ("traces", "metrics", "logs").</summary>
    public ConcurrentDictionary<string, int> Requests { get; } = new();

    /// <summary>Bytes received so far, kept or not.</summary>
    public long ReceivedBytes => Interlocked.Read(ref received);

    public static async Task<OtlpSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 64 * 1024 * 1024);
        var app = builder.Build();
        var sink = new OtlpSink(app);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            sink.Keep(signal, body.ToArray());
            // an empty Export*ServiceResponse: full success
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        sink.Endpoint = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.First().Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
        return sink;
    }

    /// <summary>How many kept payloads of <paramref name="signal"/> contain <paramref name="text"/> (UTF-8).</summary>
    public int CountContaining(string signal, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return payloads.Count(p => p.Signal == signal && p.Body.AsSpan().IndexOf(needle) >= 0);
    }

    /// <summary>How many kept payloads of any signal contain <paramref name="text"/> (UTF-8).</summary>
    public int CountContaining(string text) => Requests.Keys.Sum(signal => CountContaining(signal, text));

    /// <summary>
    /// Every span of the kept trace exports: the exporting service (<c>service.name</c>), trace id (hex), name, and its
    /// span id, parent span id (hex, empty for a root), start and end (Unix nanoseconds, the exporting process's clock).
    /// </summary>
    public IReadOnlyList<ExportedSpan> Spans()
    {
        // ExportTraceServiceRequest{1: ResourceSpans{1: Resource{1: KeyValue}, 2: ScopeSpans{2: Span{1: trace_id,
        // 2: span_id, 4: parent_span_id, 5: name, 7: start_time_unix_nano (fixed64), 8: end_time_unix_nano (fixed64)}}}}
        var spans = new List<ExportedSpan>();
        foreach (var (signal, body) in payloads)
        {
            if (signal != "traces") continue;
            foreach (var resourceSpans in Fields(body, 1))
            {
                var service = Fields(resourceSpans, 1).SelectMany(resource => Fields(resource, 1))
                    .Select(kv => (Key: Text(kv, 1), Value: Fields(kv, 2).Select(any => Text(any, 1)).FirstOrDefault()))
                    .FirstOrDefault(kv => kv.Key == "service.name").Value ?? "";
                foreach (var span in Fields(resourceSpans, 2).SelectMany(scope => Fields(scope, 2)))
                    spans.Add(new ExportedSpan(service, Hex(span, 1), Text(span, 5) ?? "")
                    {
                        SpanId = Hex(span, 2), ParentId = Hex(span, 4), Start = Fixed64(span, 7), End = Fixed64(span, 8),
                    });
            }
        }
        return spans;
    }

    /// <summary>The length-delimited fields numbered <paramref name="number"/> of one protobuf message.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                found.Add(input.ReadBytes().ToByteArray());
            else
                input.SkipLastField();
        }
        return found;
    }

    private static string Hex(byte[] message, int number) => Convert.ToHexStringLower(Fields(message, number).FirstOrDefault() ?? []);

    /// <summary>The first fixed64 field numbered <paramref name="number"/> of one protobuf message (0 if absent).</summary>
    private static ulong Fixed64(byte[] message, int number)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Fixed64)
                return input.ReadFixed64();
            input.SkipLastField();
        }
        return 0;
    }

    private static string? Text(byte[] message, int number) =>
        Fields(message, number).Select(b => Encoding.UTF8.GetString(b)).FirstOrDefault();

    private void Keep(string signal, byte[] body)
    {
        Requests.AddOrUpdate(signal, 1, (_, n) => n + 1);
        Interlocked.Add(ref received, body.Length);
        payloads.Enqueue((signal, body));
        var kept = Interlocked.Add(ref keptBytes, body.Length);
        while (kept > KeptBytes && payloads.TryDequeue(out var old))
            kept = Interlocked.Add(ref keptBytes, -old.Body.Length);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}

/// <summary>One exported span: which service sent it, its trace, its name, its place in the trace and its times.</summary>
public sealed record ExportedSpan(string Service, string TraceId, string Name)
{
    public string SpanId { get; init; } = "";
    public string ParentId { get; init; } = "";
    /// <summary>Unix nanoseconds.</summary>
    public ulong Start { get; init; }
    /// <summary>Unix nanoseconds.</summary>
    public ulong End { get; init; }
    public double Milliseconds => (End - Start) / 1e6;
}
