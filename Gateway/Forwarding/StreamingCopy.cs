using System.Buffers;

namespace AiAssistant.Gateway.Forwarding;

internal static class StreamingCopy
{
    private const int BufferSize = 64 * 1024;

    /// <summary>
    /// Copies until the source ends, flushing after every read: whatever the sender wrote (an SSE event, a piece of an
    /// upload) travels on at once instead of waiting for a buffer to fill.
    /// </summary>
    public static async Task CopyAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await destination.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
