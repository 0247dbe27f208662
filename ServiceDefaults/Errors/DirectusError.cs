using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.ServiceDefaults.Errors;

/// <summary>The error codes Directus clients know (extensions.code).</summary>
public static class ErrorCodes
{
    public const string InvalidPayload = "INVALID_PAYLOAD";
    public const string InvalidQuery = "INVALID_QUERY";
    public const string FailedValidation = "FAILED_VALIDATION";
    public const string RecordNotUnique = "RECORD_NOT_UNIQUE";
    public const string NotNullViolation = "NOT_NULL_VIOLATION";
    public const string ContainsNullValues = "CONTAINS_NULL_VALUES";
    public const string ValueTooLong = "VALUE_TOO_LONG";
    public const string ValueOutOfRange = "VALUE_OUT_OF_RANGE";
    public const string InvalidForeignKey = "INVALID_FOREIGN_KEY";
    public const string InvalidCredentials = "INVALID_CREDENTIALS";
    public const string Forbidden = "FORBIDDEN";
    public const string RouteNotFound = "ROUTE_NOT_FOUND";
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string ContentTooLarge = "CONTENT_TOO_LARGE";
    public const string RequestsExceeded = "REQUESTS_EXCEEDED";
    public const string Internal = "INTERNAL_SERVER_ERROR";
}

/// <summary>
/// An error a handler wants to reach the caller as <c>{"errors":[{"message","extensions":{"code",…}}]}</c>.
/// The message is shown to people: it must never contain a secret.
/// </summary>
public sealed class DirectusException(int status, string code, string message, IReadOnlyDictionary<string, object?>? extensions = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public IReadOnlyDictionary<string, object?>? Extensions { get; } = extensions;

    public static DirectusException InvalidPayload(string reason, string? field = null) =>
        new(StatusCodes.Status400BadRequest, ErrorCodes.InvalidPayload, $"Invalid payload. {reason}.",
            field is null ? new Dictionary<string, object?> { ["reason"] = reason }
                          : new Dictionary<string, object?> { ["reason"] = reason, ["field"] = field });

    public static DirectusException Forbidden(string? reason = null) =>
        new(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, reason ?? "You don't have permission to access this.",
            reason is null ? null : new Dictionary<string, object?> { ["reason"] = reason });

    public static DirectusException Unauthenticated(string message = "Invalid user credentials.") =>
        new(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, message);

    public static DirectusException ServiceUnavailable(string service, string reason) =>
        new(StatusCodes.Status503ServiceUnavailable, ErrorCodes.ServiceUnavailable,
            $"Service \"{service}\" is unavailable. {reason}.",
            new Dictionary<string, object?> { ["service"] = service, ["reason"] = reason });
}

/// <summary>The one way every service writes an error body.</summary>
public static class DirectusError
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static object Envelope(string code, string message, IReadOnlyDictionary<string, object?>? extensions = null)
    {
        var ext = new Dictionary<string, object?>();
        if (extensions is not null)
            foreach (var (k, v) in extensions) ext[k] = v;
        ext["code"] = code;
        return new { errors = new[] { new { message, extensions = ext } } };
    }

    public static IResult Result(DirectusException e) =>
        Results.Json(Envelope(e.Code, e.Message, e.Extensions), Json, statusCode: e.Status);

    public static IResult Result(int status, string code, string message) =>
        Results.Json(Envelope(code, message), Json, statusCode: status);

    public static Task WriteAsync(HttpContext context, DirectusException e) =>
        WriteAsync(context, e.Status, e.Code, e.Message, e.Extensions);

    public static async Task WriteAsync(HttpContext context, int status, string code, string message,
        IReadOnlyDictionary<string, object?>? extensions = null)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, Envelope(code, message, extensions), Json, context.RequestAborted);
    }
}
