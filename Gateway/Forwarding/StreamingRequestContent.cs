using System.Net;

namespace AiAssistant.Gateway.Forwarding;

/// <summary>
/// The client's request body, passed to the upstream piece by piece as it arrives. (<c>StreamContent</c> would leave
/// small pieces in the connection's write buffer until the client finished sending.)
/// </summary>
internal sealed class StreamingRequestContent(Stream clientBody) : HttpContent
{
    private int _sent;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // The client's body can be read once; a retry on another connection must fail rather than send half a body.
        if (Interlocked.Exchange(ref _sent, 1) != 0)
            throw new InvalidOperationException("The request body was already forwarded once.");
        return StreamingCopy.CopyAsync(clientBody, stream, cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
