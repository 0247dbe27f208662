using AiAssistant.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiAssistant.ServiceDefaults.Access;

/// <summary>
/// The gates endpoints call: <c>context.RequireUser()</c>, <c>RequireApp()</c>, <c>RequireAdmin()</c>. The caller was
/// resolved (and verified by this service itself) once per request by <see cref="UseCallerIdentity"/>; a bad token's
/// 401 surfaces here, so endpoints open to everyone (<c>/server/ping</c>, <c>/auth/login</c>) still answer.
/// </summary>
public static class CallerAccess
{
    private const string CallerKey = "aiassistant.caller";
    private const string FailureKey = "aiassistant.caller.failure";

    /// <summary>Resolves the Bearer token of every request except service-credential calls (internal gRPC).</summary>
    public static IApplicationBuilder UseCallerIdentity(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var services = context.RequestServices;
            var header = context.Request.Headers.Authorization.ToString();
            if (!services.GetRequiredService<BearerTokens>().IsInternal(header))
            {
                try
                {
                    context.Items[CallerKey] = await services.GetRequiredService<CallerResolver>().AuthenticateAsync(context);
                }
                catch (DirectusException e) when (e.Status == StatusCodes.Status401Unauthorized)
                {
                    context.Items[FailureKey] = e;
                }
            }
            await next(context);
        });

    /// <summary>The caller, or null without a token; a bad token is a 401 here.</summary>
    public static CallerIdentity? Caller(this HttpContext context)
    {
        if (context.Items.TryGetValue(FailureKey, out var failure)) throw (DirectusException)failure!;
        if (context.Items.TryGetValue(CallerKey, out var caller)) return (CallerIdentity?)caller;
        if (context.RequestServices.GetRequiredService<BearerTokens>().IsInternal(context.Request.Headers.Authorization.ToString()))
            return null;
        // UseCallerIdentity is not in this service's pipeline: let nobody in rather than everybody.
        throw DirectusException.Unauthenticated("Identity is not configured on this service.");
    }

    /// <summary>
    /// A signed-in caller. Without a token the request is the Public policy's, which holds no grant for what needs a
    /// user: 403 <c>FORBIDDEN</c>, as in the reference (a bad token is already a 401 in <see cref="Caller"/>).
    /// </summary>
    public static CallerIdentity RequireUser(this HttpContext context) =>
        context.Caller() ?? throw DirectusException.Forbidden();

    /// <summary>403 FORBIDDEN without a token and for a user none of whose policies grants App access.</summary>
    public static CallerIdentity RequireApp(this HttpContext context)
    {
        var caller = context.RequireUser();
        return caller.App || caller.Admin ? caller : throw DirectusException.Forbidden();
    }

    /// <summary>403 FORBIDDEN without a token and for a user without admin access.</summary>
    public static CallerIdentity RequireAdmin(this HttpContext context)
    {
        var caller = context.RequireUser();
        return caller.Admin ? caller : throw DirectusException.Forbidden();
    }
}
