/* cxx_sized_delete - C++ ::operator delete(p, 4096) of memory from ::operator new(48) (wrong size).
 * missed:    nothing stops the program (INFO: was the block handed out again
 *            by operator new(4096)?).
 * mitigated: never.
 */
#include "wrong.h"

#include <cstddef>
#include <new>

int main() {
    wr_begin();
    void (*sized_delete)(void *, std::size_t) = &::operator delete;
    Dl_info d;
    wr_info("sized operator delete from %s",
            dladdr((void *)sized_delete, &d) && d.dli_fname ? d.dli_fname : "?");
    char *p = static_cast<char *>(::operator new(wr_size(48)));
    void *after = ::operator new(48);
    memset(p, 0, 48);
    ::operator delete(wr_opaque(p), wr_size(4096)); /* MISUSE: wrong size */
    wr_sink_ptr = after;
    size_t bad = 0;
    for (int r = 0; r < 2; r++) {
        for (int i = 0; i < 64; i++) {
            wr_blocks[i] = ::operator new(wr_size(4096));
            if (wr_blocks[i] == p) bad++;
            static_cast<volatile char *>(wr_blocks[i])[4095] = 1;
        }
        for (int i = 0; i < 64; i++) ::operator delete(wr_blocks[i], 4096);
        for (int i = 0; i < 64; i++) wr_blocks[i] = ::operator new(wr_size(48));
        for (int i = 0; i < 64; i++) ::operator delete(wr_blocks[i], 48);
    }
    wr_info("4096-byte blocks handed out at the 48-byte block: %zu", bad);
    MISSED();
}
