using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AiAssistant.ServiceDefaults.Telemetry;

/// <summary>Our own activity source; services start spans for work the framework does not see (outbox, tool calls).</summary>
public static class AiAssistantActivity
{
    public const string SourceName = "AiAssistant";
    public static readonly ActivitySource Source = new(SourceName);
}

public static class TelemetryExtensions
{
    /// <summary>
    /// OpenTelemetry without OpenTelemetry.Extensions.Hosting (not in the package source): the SDK is built by hand and
    /// exports over OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set. Trace context crosses HTTP and gRPC through
    /// HttpClient's propagator and ASP.NET Core's hosting activity, and RabbitMQ through MassTransit's headers.
    /// </summary>
    public static WebApplicationBuilder AddDefaultTelemetry(this WebApplicationBuilder builder)
    {
        var otlp = builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(otlp)) return builder;

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;
        var sdk = OpenTelemetrySdk.Create(b => b
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t => t
                .AddSource("Microsoft.AspNetCore", "System.Net.Http", "MassTransit", "Npgsql", AiAssistantActivity.SourceName)
                .AddOtlpExporter())
            .WithMetrics(m => m
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http",
                    "System.Runtime", "MassTransit", AiAssistantActivity.SourceName)
                .AddOtlpExporter()));
        builder.Services.AddSingleton(sdk);
        builder.Logging.AddOpenTelemetry(o => o.IncludeScopes = true)
            .Services.ConfigureOpenTelemetryLoggerProvider(l => l.AddOtlpExporter());
        return builder;
    }
}
