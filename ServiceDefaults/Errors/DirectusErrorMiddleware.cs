using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AiAssistant.ServiceDefaults.Errors;

/// <summary>Turns every failure into the Directus envelope; unexpected ones become a 500 without their message.</summary>
public sealed partial class DirectusErrorMiddleware(RequestDelegate next, ILogger<DirectusErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            if (!context.Response.HasStarted && context.Response.ContentLength is null && context.Response.ContentType is null)
            {
                // Endpoints that set no body for a status: give the same envelope as everything else.
                switch (context.Response.StatusCode)
                {
                    case StatusCodes.Status404NotFound:
                        await DirectusError.WriteAsync(context, 404, ErrorCodes.RouteNotFound, $"Route {context.Request.Path} doesn't exist.");
                        break;
                    case StatusCodes.Status405MethodNotAllowed:
                        await DirectusError.WriteAsync(context, 405, ErrorCodes.RouteNotFound, $"Method {context.Request.Method} is not allowed on {context.Request.Path}.");
                        break;
                }
            }
        }
        catch (DirectusException e)
        {
            await DirectusError.WriteAsync(context, e);
        }
        catch (BadHttpRequestException e)
        {
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
                await DirectusError.WriteAsync(context, 413, ErrorCodes.ContentTooLarge, "Uploaded content is too large. The request body is larger than this route takes.");
            else
                await DirectusError.WriteAsync(context, 400, ErrorCodes.InvalidPayload, "Invalid payload. The request body could not be read.");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody is left to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted && UnreachableServer(e) is { } server)
        {
            // A server that is away (stopped, restarting, unreachable) is an outage, not a bug: 503, so clients retry.
            logger.LogWarning("{Server} unreachable on {Method} {Path} ({ExceptionType})", server, context.Request.Method, context.Request.Path, e.GetType().Name);
            var unavailable = DirectusException.ServiceUnavailable(server, "It cannot be reached right now; try again shortly");
            await DirectusError.WriteAsync(context, unavailable);
        }
        catch (Exception e)
        {
            // The exception's message may carry anything (a connection string, a key): log its type and stack only.
            logger.LogError("Unhandled {ExceptionType} on {Method} {Path}: {StackTrace}", e.GetType().FullName,
                context.Request.Method, context.Request.Path, e.StackTrace);
            await DirectusError.WriteAsync(context, 500, ErrorCodes.Internal, "An unexpected error occurred.");
        }
    }
}

public sealed partial class DirectusErrorMiddleware
{
    /// <summary>The server a failure says is unreachable (its resource name), or null for any other failure.</summary>
    public static string? UnreachableServer(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            switch (x)
            {
                // connection refused or reset, a pool that cannot open, the server shutting down (57P01 and kin)
                case Npgsql.NpgsqlException { IsTransient: true }:
                case Npgsql.PostgresException { SqlState: "57P01" or "57P02" or "57P03" }:
                    return Contracts.ResourceNames.Postgres;
                case StackExchange.Redis.RedisConnectionException:
                    return Contracts.ResourceNames.Redis;
            }
        return null;
    }
}

public static class DirectusErrorExtensions
{
    /// <summary>The Directus error envelope for every failure of what follows in the pipeline: call it first.</summary>
    public static IApplicationBuilder UseDirectusErrors(this IApplicationBuilder app) => app.UseMiddleware<DirectusErrorMiddleware>();
}
