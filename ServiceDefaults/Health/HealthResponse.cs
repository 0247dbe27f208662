using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiAssistant.ServiceDefaults.Health;

public static class HealthTags
{
    /// <summary>The process answers (/alive).</summary>
    public const string Live = "live";
    /// <summary>Failing, the service must get no traffic: it is stopping, or cannot serve yet (/health fails).</summary>
    public const string Ready = "ready";
}

/// <summary>Writes <c>{"status":"ok"|"degraded"|"error","checks":{name:status}}</c>, never an exception's message.</summary>
internal static class HealthResponse
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status switch { HealthStatus.Healthy => "ok", HealthStatus.Degraded => "degraded", _ => "error" },
            checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()),
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, cancellationToken: context.RequestAborted);
    }
}
