using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Model;

namespace AiAssistant.Gateway.Proxy;

/// <summary>
/// A route's own body limit from its <c>Metadata.MaxRequestBodySize</c> in appsettings.json (uploads to <c>/files</c>
/// are larger than Kestrel's 30 MB default); a body past it is answered 413 <c>CONTENT_TOO_LARGE</c> by
/// <see cref="ForwarderErrors"/>.
/// </summary>
public sealed class RequestBodyLimits(RequestDelegate next)
{
    public const string MetadataKey = "MaxRequestBodySize";

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetReverseProxyFeature().Route.Config.Metadata?.GetValueOrDefault(MetadataKey) is { } text
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = limit;
        return next(context);
    }
}
