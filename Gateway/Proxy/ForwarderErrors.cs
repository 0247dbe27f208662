using AiAssistant.ServiceDefaults.Errors;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace AiAssistant.Gateway.Proxy;

/// <summary>
/// YARP answers a failed forward with a bare status (502 unreachable, 504 timed out, 503 no destination, 4xx for
/// the client's own body) and an <see cref="IForwarderErrorFeature"/>; this writes that status in the Directus envelope.
/// </summary>
public sealed class ForwarderErrors(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (context.GetForwarderErrorFeature() is not { } failure || context.Response.HasStarted
            || context.RequestAborted.IsCancellationRequested) // the client left: nobody is waiting
            return;

        var status = context.Response.StatusCode;
        if (status < StatusCodes.Status500InternalServerError)
        {
            // Too large, malformed or too slow: the client's body was at fault, not the service.
            if (status == StatusCodes.Status413PayloadTooLarge)
                await DirectusError.WriteAsync(context, status, ErrorCodes.ContentTooLarge, "Uploaded content is too large.");
            else
                await DirectusError.WriteAsync(context, status, ErrorCodes.InvalidPayload, "Invalid payload. The request body could not be read.");
            return;
        }
        var service = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
        var unavailable = DirectusException.ServiceUnavailable(service, Reason(failure.Error));
        await DirectusError.WriteAsync(context, status, unavailable.Code, unavailable.Message, unavailable.Extensions);
    }

    private static string Reason(ForwarderError error) => error switch
    {
        ForwarderError.NoAvailableDestinations => "It has no address",
        ForwarderError.RequestTimedOut => "It did not answer in time",
        ForwarderError.ResponseBodyDestination => "Its response broke off",
        _ => "Could not reach it",
    };
}
