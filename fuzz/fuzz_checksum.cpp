// Fuzzes the Internet checksum: the fast sum must equal the 16-bit reference at every offset,
// and summing in even-length pieces (split where the input says) must equal one call.
#include "fuzz_util.hpp"
#include "wire/checksum.hpp"

using namespace ustack;
using namespace ustack::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = fuzz::copy_input(data, size);
    ByteSpan in{input.data(), input.size()};
    for (std::size_t off = 0; off < 8 && off <= in.size(); ++off) {
        ByteSpan d = in.subspan(off);
        FUZZ_CHECK(internet_checksum(d) == internet_checksum_reference(d));
    }
    // Piece lengths come from the data itself: 2 * (byte % 64) + 2.
    std::uint64_t sum = 0;
    std::size_t pos = 0;
    while (pos < in.size()) {
        std::size_t piece = 2 * (static_cast<std::size_t>(in[pos]) % 64) + 2;
        piece = std::min(piece, in.size() - pos);
        sum = checksum_accumulate(in.subspan(pos, piece), sum);
        pos += piece;
    }
    FUZZ_CHECK(checksum_fold(sum) == checksum_fold(checksum_accumulate(in)));
    return 0;
}
