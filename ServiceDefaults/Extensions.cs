using AiAssistant.ServiceDefaults.Health;
using AiAssistant.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AiAssistant.ServiceDefaults;

/// <summary>
/// The single seam for what every service shares, in the Aspire template's shape: <see cref="AddServiceDefaults{TBuilder}"/>
/// (telemetry, health checks, service discovery) on the builder, <see cref="MapDefaultEndpoints"/> on the app.
/// </summary>
public static class Extensions
{
    private const string HealthPath = "/health";
    private const string AlivePath = "/alive";

    /// <summary>Sources and meters of what the packages do not register themselves (MassTransit, Microsoft.Extensions.AI, ours).</summary>
    private static readonly string[] ActivitySources = [AiAssistantActivity.SourceName, "MassTransit", "Experimental.Microsoft.Extensions.AI"];
    private static readonly string[] Meters = [AiAssistantActivity.SourceName, "MassTransit", "Experimental.Microsoft.Extensions.AI"];

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        SettingException.ExitCleanlyOnMissingSettings();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("MassTransit", LogLevel.Warning);
        // The multiplexer logs ~30 lines per connect and Npgsql every command (health probes included) at Information.
        builder.Logging.AddFilter("StackExchange.Redis", LogLevel.Warning);
        builder.Logging.AddFilter("Npgsql", LogLevel.Warning);

        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        // No resilience handler for every client: Chat's provider clients stream for minutes. Service-to-service
        // clients opt in with AddServiceResilience().
        builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());

        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // Directus answers with plain quotes, not \u0022 escapes; responses are JSON, never inlined into HTML.
            o.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        });
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    /// <summary>
    /// Logs, metrics and traces through OpenTelemetry.Extensions.Hosting, exported over OTLP (to the Aspire dashboard)
    /// when OTEL_EXPORTER_OTLP_ENDPOINT is set. Trace context crosses HTTP and gRPC as W3C traceparent, RabbitMQ through
    /// MassTransit's headers, and the outbox through the row (<see cref="Outbox.OutboxWriter"/>).
    /// Nothing records a body, a header or a query value: ASP.NET Core and HttpClient redact query strings, and
    /// Npgsql records the SQL text, never its parameters.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(Meters))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(ActivitySources)
                .AddAspNetCoreInstrumentation(o =>
                    // Health probes (the AppHost's, every few seconds) are not traces anyone reads.
                    o.Filter = context => !context.Request.Path.StartsWithSegments(HealthPath)
                                          && !context.Request.Path.StartsWithSegments(AlivePath))
                .AddGrpcClientInstrumentation()
                .AddHttpClientInstrumentation());
        // Npgsql and StackExchange.Redis traces and metrics are added by their Aspire integrations.

        builder.AddOpenTelemetryExporters();
        return builder;
    }

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        return builder;
    }

    /// <summary>
    /// "self" for /alive; for /health, "ready" (<see cref="GracefulShutdown"/>) and the integrations' checks (PostgreSQL,
    /// Redis, MassTransit's bus). Only a check tagged <see cref="HealthTags.Ready"/> (or live) makes /health fail: a
    /// shared server that is away makes it <c>degraded</c> (still 200, the server named), because every replica would
    /// fail together and the gateway and Kubernetes would have nowhere to send — while the service itself goes on
    /// answering, with 503 naming the server where it is needed.
    /// </summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [HealthTags.Live]);
        GracefulShutdown.AddTo(builder); // "ready": fails from SIGTERM on, while in-flight requests finish
        builder.Services.PostConfigure<HealthCheckServiceOptions>(o =>
        {
            foreach (var check in o.Registrations)
                if (!check.Tags.Contains(HealthTags.Ready) && !check.Tags.Contains(HealthTags.Live)) check.FailureStatus = HealthStatus.Degraded;
        });
        return builder;
    }

    /// <summary>
    /// /health (ready to serve: the AppHost, the gateway and Kubernetes probe it) and /alive (the process answers). Unlike the
    /// template these are mapped in every environment, since the AppHost and the tests probe them; the answer names each
    /// check and its status, never an exception's message.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthPath, new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync });
        app.MapHealthChecks(AlivePath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(HealthTags.Live),
            ResponseWriter = HealthResponse.WriteAsync,
        });
        return app;
    }

    /// <summary>
    /// For an HttpClient that calls another of our services with short requests: the standard resilience handler
    /// (retries, circuit breaker, timeouts). Not for provider clients, whose streams outlive its timeouts.
    /// </summary>
    public static IHttpClientBuilder AddServiceResilience(this IHttpClientBuilder http)
    {
        http.AddStandardResilienceHandler();
        return http;
    }

    /// <summary>A service's address from Aspire-shaped configuration: <c>services:{name}:{endpoint}:{index}</c>.</summary>
    public static Uri ServiceUri(this IConfiguration configuration, string service, string endpoint, int index = 0)
    {
        var value = configuration[$"services:{service}:{endpoint}:{index}"];
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value, UriKind.Absolute, out var uri))
            throw new SettingException(
                $"Missing configuration services:{service}:{endpoint}:{index} (environment services__{service}__{endpoint}__{index}), the address of {service}.");
        return uri;
    }

    /// <summary>A connection string that must be present, with a message that says which one is missing.</summary>
    public static string RequiredConnectionString(this IConfiguration configuration, string name)
    {
        var value = configuration[$"ConnectionStrings:{name}"];
        if (string.IsNullOrWhiteSpace(value))
            throw new SettingException(
                $"Missing connection string '{name}' (environment ConnectionStrings__{name}).");
        return value;
    }
}
