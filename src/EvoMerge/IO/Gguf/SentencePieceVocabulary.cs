using System.Text;

namespace EvoMerge.IO.Gguf;

/// <summary>
/// Reads the pieces, scores and types of a SentencePiece <c>.model</c> file (a protobuf <c>ModelProto</c>).
/// Microsoft.ML.Tokenizers loads these files for tokenizing but exposes neither scores nor piece types, so the
/// few fields GGUF needs are read here: <c>ModelProto.pieces</c> (field 1), each a <c>SentencePiece</c> with
/// piece (1, string), score (2, float) and type (3, enum; the same numbers as GGUF's token types).
/// </summary>
public static class SentencePieceVocabulary
{
    public static GgufVocabulary Read(string path)
    {
        var bytes = InputFile.ReadAllBytes(path, InputFile.LargeFileBytes, "SentencePiece model");
        var tokens = new List<string>();
        var scores = new List<float>();
        var types = new List<GgufTokenType>();
        try
        {
            var model = new ProtoReader(bytes);
            while (model.Next(out int field, out int wire))
            {
                if (field != 1 || wire != 2) { model.Skip(wire); continue; }
                var piece = new ProtoReader(model.ReadBytes());
                string text = "";
                float score = 0;
                var type = GgufTokenType.Normal;
                while (piece.Next(out int f, out int w))
                {
                    if (f == 1 && w == 2) text = Encoding.UTF8.GetString(piece.ReadBytes());
                    else if (f == 2 && w == 5) score = piece.ReadFloat();
                    else if (f == 3 && w == 0) type = (GgufTokenType)piece.ReadVarint();
                    else piece.Skip(w);
                }
                tokens.Add(text);
                scores.Add(score);
                types.Add(type);
            }
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or InvalidDataException)
        {
            throw new EvoMergeException($"{path}: not a SentencePiece model (protobuf ModelProto expected): {e.Message}");
        }
        if (tokens.Count == 0) throw new EvoMergeException($"{path}: no pieces found; expected a SentencePiece model");
        int? Find(GgufTokenType type, string text) => tokens.FindIndex(t => t == text) is int i and >= 0 && types[i] == type ? i : null;
        return new GgufVocabulary("llama", tokens, types, scores, null,
            Find(GgufTokenType.Control, "<s>"), Find(GgufTokenType.Control, "</s>"), types.IndexOf(GgufTokenType.Unknown) is int u and >= 0 ? u : null);
    }

    /// <summary>Just enough protobuf wire format to walk a message: varints, fixed32, length-delimited.</summary>
    ref struct ProtoReader(ReadOnlySpan<byte> data)
    {
        readonly ReadOnlySpan<byte> data = data;
        int pos;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (pos >= data.Length) return false;
            ulong key = ReadVarint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong ReadVarint()
        {
            ulong value = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = data[pos++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return value;
                if (shift > 63) throw new InvalidDataException("varint too long");
            }
        }

        public float ReadFloat()
        {
            float f = BitConverter.ToSingle(data.Slice(pos, 4));
            pos += 4;
            return f;
        }

        public ReadOnlySpan<byte> ReadBytes()
        {
            int length = checked((int)ReadVarint());
            var slice = data.Slice(pos, length);
            pos += length;
            return slice;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: ReadVarint(); break;
                case 1: pos += 8; break;
                case 2: ReadBytes(); break;
                case 5: pos += 4; break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire}");
            }
            if (pos > data.Length) throw new InvalidDataException("truncated message");
        }
    }
}
