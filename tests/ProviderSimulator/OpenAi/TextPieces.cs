namespace AiAssistant.ProviderSimulator.OpenAi;

/// <summary>How a reply is cut into streamed tokens; the pieces concatenate back to the original exactly.</summary>
internal static class TextPieces
{
    private const int ArgumentPieceLength = 12;

    /// <summary>The next word with the whitespace before it (" word"), starting at <paramref name="position"/>.</summary>
    public static bool NextWord(string text, ref int position, out Range piece)
    {
        int start = position, end = start;
        while (end < text.Length && char.IsWhiteSpace(text[end]))
        {
            end++;
        }

        while (end < text.Length && !char.IsWhiteSpace(text[end]))
        {
            end++;
        }

        piece = start..end;
        position = end;
        return end > start;
    }

    /// <summary>The next few characters of tool-call arguments, never splitting a surrogate pair.</summary>
    public static bool NextArgumentPiece(string arguments, ref int position, out Range piece)
    {
        int start = position, end = Math.Min(arguments.Length, start + ArgumentPieceLength);
        if (end < arguments.Length && char.IsHighSurrogate(arguments[end - 1]))
        {
            end++;
        }

        piece = start..end;
        position = end;
        return end > start;
    }

    /// <summary>The completion tokens a reply is reported to use when it does not script its own usage: one per streamed piece.</summary>
    public static int CountCompletionTokens(SimulatedReply reply)
    {
        int tokens = 0, position = 0;
        while (NextWord(reply.Content, ref position, out _))
        {
            tokens++;
        }

        foreach (var call in reply.Calls)
        {
            tokens++;
            position = 0;
            while (NextArgumentPiece(call.Arguments, ref position, out _))
            {
                tokens++;
            }
        }

        return tokens;
    }
}
