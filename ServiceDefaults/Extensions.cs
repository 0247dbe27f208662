using AiAssistant.ServiceDefaults.Errors;
using AiAssistant.ServiceDefaults.Health;
using AiAssistant.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiAssistant.ServiceDefaults;

/// <summary>The single seam for what every service shares (eShop's ServiceDefaults shape).</summary>
public static class Extensions
{
    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("MassTransit", LogLevel.Warning);

        builder.AddDefaultTelemetry();

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: [HealthTags.Live]);

        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // Directus answers with plain quotes, not \u0022 escapes; responses are JSON, never inlined into HTML.
            o.SerializerOptions.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        });
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    /// <summary>Error envelope for every failure, then /health (dependencies reachable) and /alive.</summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        app.UseMiddleware<DirectusErrorMiddleware>();
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync });
        app.MapHealthChecks("/alive", new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(HealthTags.Live),
            ResponseWriter = HealthResponse.WriteAsync,
        });
        return app;
    }

    /// <summary>A service's address from Aspire-shaped configuration: <c>services:{name}:{endpoint}:{index}</c>.</summary>
    public static Uri ServiceUri(this Microsoft.Extensions.Configuration.IConfiguration configuration, string service, string endpoint, int index = 0)
    {
        var value = configuration[$"services:{service}:{endpoint}:{index}"];
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value, UriKind.Absolute, out var uri))
            throw new InvalidOperationException(
                $"Missing configuration services:{service}:{endpoint}:{index} (environment services__{service}__{endpoint}__{index}), the address of {service}.");
        return uri;
    }

    /// <summary>A connection string that must be present, with a message that says which one is missing.</summary>
    public static string RequiredConnectionString(this Microsoft.Extensions.Configuration.IConfiguration configuration, string name)
    {
        var value = configuration[$"ConnectionStrings:{name}"];
        if (string.IsNullOrWhiteSpace(value))
            throw new InvalidOperationException(
                $"Missing connection string '{name}' (environment ConnectionStrings__{name}).");
        return value;
    }
}
