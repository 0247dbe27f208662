using System.Buffers;

namespace AiAssistant.Services.Chat.Providers;

/// <summary>
/// Reads a server-sent event stream line by line as UTF-8 bytes, so that a chunk's JSON is parsed where it lies instead
/// of being decoded to a string and encoded back. Lines end at <c>\n</c>, <c>\r</c> or <c>\r\n</c>, as for
/// <see cref="StreamReader.ReadLineAsync(CancellationToken)"/>; a UTF-8 byte order mark at the start is skipped.
/// A line is returned as soon as its end has arrived; it stays valid until the next call.
/// </summary>
internal sealed class SseLineReader(Stream stream) : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);
    private int _start;
    private int _end;
    private bool _ended;
    private bool _atStart = true;

    public ReadOnlyMemory<byte> Line { get; private set; }

    /// <summary>Moves to the next line; false at the end of the stream.</summary>
    public async ValueTask<bool> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_atStart && (_end - _start >= 3 || _ended))
            {
                if (_buffer.AsSpan(_start, _end - _start).StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) _start += 3;
                _atStart = false;
            }
            var pending = _buffer.AsSpan(_start, _end - _start);
            var at = _atStart ? -1 : pending.IndexOfAny((byte)'\n', (byte)'\r');
            // A '\r' as the last byte read may be the first half of "\r\n": decide once the next byte is here.
            if (at >= 0 && (pending[at] == '\n' || at + 1 < pending.Length || _ended))
            {
                Line = _buffer.AsMemory(_start, at);
                _start += at + (pending[at] == '\r' && at + 1 < pending.Length && pending[at + 1] == '\n' ? 2 : 1);
                return true;
            }
            if (_ended)
            {
                if (pending.IsEmpty) return false;
                Line = _buffer.AsMemory(_start, pending.Length);
                _start = _end;
                return true;
            }
            if (_start > 0)
            {
                pending.CopyTo(_buffer);
                _end = pending.Length;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                _buffer.AsSpan(0, _end).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0) _ended = true;
            else _end += read;
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
