using AiAssistant.ServiceDefaults.Errors;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace AiAssistant.Gateway.Web;

/// <summary>
/// The admin app (<c>Web/</c>, built by Vite into <c>Web/dist</c> and copied next to the gateway as
/// <c>wwwroot/admin</c>) at <c>/admin</c>: a file of the build is served as it is (hashed assets cached for a year),
/// every other <c>/admin/*</c> path is answered with <c>index.html</c> so the app's router takes it. A strict
/// Content-Security-Policy keeps anything a model or a tool result might smuggle into the page from running, on top
/// of the app's own sanitising. <c>Web:Root</c> points elsewhere (a dev build, say).
/// </summary>
public static class WebApp
{
    private const string Path = "/admin";
    private const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

    public static WebApplication MapWebApp(this WebApplication app)
    {
        var root = app.Configuration["Web:Root"] is { Length: > 0 } configured
            ? System.IO.Path.GetFullPath(configured)
            : System.IO.Path.Combine(AppContext.BaseDirectory, "wwwroot", "admin");
        var files = Directory.Exists(root) ? new PhysicalFileProvider(root) : null;
        var types = new FileExtensionContentTypeProvider();

        IResult Serve(HttpContext context, string? rest)
        {
            var headers = context.Response.Headers;
            headers["Content-Security-Policy"] = Policy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            if (files is null || !files.GetFileInfo("index.html").Exists)
                return DirectusError.Result(StatusCodes.Status503ServiceUnavailable, ErrorCodes.ServiceUnavailable,
                    "The web app is not built: run scripts/setup.sh (it builds Web/ with npm) and start the gateway again.");
            // PhysicalFileProvider refuses paths that leave the root (.., absolute paths).
            var file = string.IsNullOrEmpty(rest) ? null : files.GetFileInfo(rest);
            if (file is { Exists: true, IsDirectory: false, PhysicalPath: { } physical })
            {
                headers.CacheControl = rest!.StartsWith("assets/", StringComparison.Ordinal) ? "public, max-age=31536000, immutable" : "no-cache";
                return TypedResults.PhysicalFile(physical, types.TryGetContentType(physical, out var type) ? type : "application/octet-stream",
                    enableRangeProcessing: true);
            }
            // A missing asset is a 404; any other path is a page of the app.
            if (rest?.StartsWith("assets/", StringComparison.Ordinal) == true)
                return DirectusError.Result(StatusCodes.Status404NotFound, ErrorCodes.RouteNotFound, $"Route {context.Request.Path} doesn't exist.");
            headers.CacheControl = "no-cache";
            return TypedResults.PhysicalFile(files.GetFileInfo("index.html").PhysicalPath!, "text/html; charset=utf-8");
        }

        app.MapGet(Path, (HttpContext context) => Serve(context, null)).ExcludeFromDescription();
        app.MapGet(Path + "/{**rest}", (HttpContext context, string? rest) => Serve(context, rest)).ExcludeFromDescription();
        return app;
    }
}
