using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace AiAssistant.Tests.Content.Files;

/// <summary>
/// An HTTP server on 127.0.0.1 in the test process, to import from: <c>/pictures/logo.png</c> (the picture), a
/// <c>/redirect</c> to 127.0.0.1, <c>/big</c>, a body of <paramref name="bigBytes"/> bytes, and for flows
/// <c>POST /echo</c> (the JSON body and the length of <c>X-Token</c> back) and <c>/teapot</c> (418).
/// </summary>
internal sealed class ImportServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private ImportServer(WebApplication app) => _app = app;

    public int Port { get; private set; }
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<ImportServer> StartAsync(byte[] picture, long bigBytes)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new ImportServer(app);
        app.Use((context, next) => { Interlocked.Increment(ref server._requests); return next(context); });
        app.MapGet("/pictures/logo.png", () => Results.Bytes(picture, "image/png"));
        app.MapGet("/redirect", () => Results.Redirect($"http://127.0.0.1:{server.Port}/pictures/logo.png"));
        app.MapGet("/big", () => Results.Bytes(new byte[bigBytes], "application/octet-stream"));
        // for a flow's request operation: the body and a header sent, and a refusal
        app.MapPost("/echo", async (HttpRequest request) => Results.Json(new
        {
            body = await System.Text.Json.Nodes.JsonNode.ParseAsync(request.Body), tokenLength = request.Headers["X-Token"].ToString().Length,
        }));
        app.MapGet("/teapot", () => Results.Json(new { no = "coffee" }, statusCode: 418));
        await app.StartAsync();
        server.Port = new Uri(app.Urls.First()).Port;
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
